"""EUNN-RNN and GORU against dense references built from the kernel's matrix."""

from __future__ import annotations

import pytest
import torch
from tolerances import ATOL

from orthornn.errors import OrthornnError, ShapeError
from orthornn.nn.eunnrnn import EUNNRNN, GORU, modrelu


def test_modrelu_forms_and_gradient_at_zero():
    z = torch.tensor([-3.0, -0.2, 0.0, 0.4, 2.0], requires_grad=True)
    b = torch.tensor(-0.5)
    out = modrelu(z, b)
    torch.testing.assert_close(out, torch.tensor([-2.5, 0.0, 0.0, 0.0, 1.5]))
    out.sum().backward()
    assert torch.isfinite(z.grad).all()
    smooth = modrelu(z.detach(), b, eps=1e-12)
    torch.testing.assert_close(smooth, out.detach(), atol=1e-6, rtol=0)


def test_eunnrnn_matches_dense_reference():
    torch.manual_seed(0)
    rnn = EUNNRNN(3, 6, capacity=5)
    with torch.no_grad():
        rnn.bias.normal_(0, 0.3)
    x = torch.randn(4, 9, 3)
    y, hT = rnn(x)
    U = rnn.kernel.matrix()
    h = torch.zeros(4, 6)
    for t in range(9):
        z = h @ U.T + x[:, t] @ rnn.weight_in.T
        h = torch.sign(z) * torch.relu(z.abs() + rnn.bias)
        torch.testing.assert_close(y[:, t], h, atol=ATOL["float64"], rtol=0)
    torch.testing.assert_close(hT, h, atol=ATOL["float64"], rtol=0)


def test_goru_matches_dense_reference():
    torch.manual_seed(1)
    goru = GORU(3, 4)
    with torch.no_grad():
        goru.bias.normal_(0, 0.3)
    x = torch.randn(2, 7, 3)
    y, _ = goru(x)
    U = goru.kernel.matrix()
    Wr, Wz, W = goru.weight_x.split(4)
    Vr, Vz = goru.weight_h.split(4)
    br, bz, b = goru.bias.split(4)
    h = torch.zeros(2, 4)
    for t in range(7):
        r = torch.sigmoid(x[:, t] @ Wr.T + h @ Vr.T + br)
        z = torch.sigmoid(x[:, t] @ Wz.T + h @ Vz.T + bz)
        pre = x[:, t] @ W.T + r * (h @ U.T)
        cand = torch.sign(pre) * torch.relu(pre.abs() + b)
        h = z * h + (1 - z) * cand
        torch.testing.assert_close(y[:, t], h, atol=ATOL["float64"], rtol=0)


@pytest.mark.parametrize("cls", [EUNNRNN, GORU])
def test_gradcheck_and_chunked_state(cls):
    torch.manual_seed(2)
    m = cls(2, 4, capacity=3, eps=1e-3)
    names = [n for n, _ in m.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in m.parameters()]
    x = torch.randn(2, 5, 2, requires_grad=True)

    def f(x, *ps):
        return torch.func.functional_call(m, dict(zip(names, ps, strict=True)), (x,))[0]

    assert torch.autograd.gradcheck(f, (x, *params))
    y, _h = m(x)
    y1, h1 = m(x[:, :2])
    y2, _h2 = m(x[:, 2:], h1)
    torch.testing.assert_close(torch.cat([y1, y2], 1), y, atol=ATOL["float64"], rtol=0)


def test_bad_arguments():
    with pytest.raises(OrthornnError, match="eps"):
        EUNNRNN(2, 3, eps=-1.0)
    with pytest.raises(ShapeError, match=r"\(B, T, 2\)"):
        GORU(2, 3)(torch.zeros(2, 3))
