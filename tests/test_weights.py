import pickle

import numpy as np
import pytest
import skimage.color
import skimage.data
import torch
from PIL import Image

from colorizerutils import weights
from conftest import SHARED


def test_restricted_unpickler_loads_numpy_and_refuses_anything_else():
    arrays = {"a": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3)}}
    assert np.array_equal(weights.restricted_load(pickle.dumps(arrays))["a"]["kernel"], arrays["a"]["kernel"])

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    for obj in (Evil(), {"x": torch.zeros(2)}, [np.zeros(2), pickle.PickleError]):
        with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle"):
            weights.restricted_load(pickle.dumps(obj))


def test_backbones_load_and_report_their_source():
    for net, first in (("alexnet", "0.weight"), ("vgg16", "28.weight")):
        feats = weights.backbone(net)
        assert feats.weights_source
        assert not any(p.requires_grad for p in feats.parameters())
        w = dict(feats.named_parameters())[first]
        assert 0.001 < w.std() < 1  # trained weights, not an empty init


def _load(p):
    return torch.from_numpy(np.asarray(Image.open(p).convert("RGB")).copy()).permute(2, 0, 1)[None].float() / 127.5 - 1


def _gray(a):
    lab = skimage.color.rgb2lab(a)
    lab[..., 1:] = 0
    return (np.clip(skimage.color.lab2rgb(lab), 0, 1) * 255 + 0.5).astype(np.uint8)


def test_lpips_reproduces_golden_values():
    m = weights.lpips_model("alex")
    ex = SHARED / "lpips_examples"
    ref, p0, p1 = (_load(ex / f) for f in ("ex_ref.png", "ex_p0.png", "ex_p1.png"))
    with torch.no_grad():
        assert m(ref, p0).item() == pytest.approx(0.7219, abs=5e-4)
        assert m(ref, p1).item() == pytest.approx(0.1376, abs=5e-4)
        for name, golden in (("astronaut", 0.1882), ("coffee", 0.3394), ("chelsea", 0.2477)):
            a = getattr(skimage.data, name)()[..., :3]
            t = lambda x: torch.from_numpy(x.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
            assert m(t(a), t(_gray(a))).item() == pytest.approx(golden, abs=5e-4), name


def test_backbones_built_without_their_init_equal_torchvisions_and_leave_the_generator_alone():
    """backbone() makes the layers on the meta device and loads every weight; init_draws=True builds torchvision's
    whole model first. Same layers, same weights, same outputs; only the second advances torch's generator."""
    x = torch.rand(1, 3, 96, 96)
    for net in ("alexnet", "vgg16"):
        state = torch.random.get_rng_state()
        fast = weights.backbone(net)
        assert torch.equal(torch.random.get_rng_state(), state)
        drawn = weights.backbone(net, init_draws=True)
        assert not torch.equal(torch.random.get_rng_state(), state)
        assert repr(fast) == repr(drawn)
        a, b = fast.state_dict(), drawn.state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        assert all(t.device.type == "cpu" for t in (*fast.parameters(), *fast.buffers()))
        with torch.no_grad():
            assert torch.equal(fast(x), drawn(x))
