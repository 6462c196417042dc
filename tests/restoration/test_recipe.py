"""course_utils.restoration.recipe: the recipe, a tiny training run, saving and loading."""

import pytest
import torch

from course_utils.core import get_profile
from course_utils.restoration.degrade import Degradation
from course_utils.restoration.gan import LossWeights
from course_utils.restoration.model import Restorer, RestorerConfig
from course_utils.restoration.recipe import (
    CHECKPOINT_DIR,
    VARIANTS,
    RestorationProfile,
    RestorationRecipe,
    build_checkpoint,
    checkpoint_path,
    load_restorer,
    save_restorer,
    train_restorer,
)
from course_utils.training import save_checkpoint

GAN_KEYS = {"discriminator", "reconstruction", "adversarial", "feature_matching", "generator"}


def _tiny_recipe(**overrides) -> RestorationRecipe:
    settings = {
        "preset": "tiny", "reconstruction_steps": 4, "adversarial_steps": 2, "batch_size": 2,
        "crop_seconds": 0.25, "critic_window": 2048, "validation_clips": 2, "validate_every": 3,
    }  # fmt: skip
    return RestorationRecipe(**{**settings, **overrides})


def _trained_looking(seed: int = 0) -> Restorer:
    torch.manual_seed(seed)
    model = Restorer(RestorerConfig.preset("tiny")).eval()
    with torch.no_grad():
        model.decode.weight.normal_(0.0, 0.01)
        model.decode.bias.normal_(0.0, 0.5)
    return model


def test_default_recipe_builds_its_parts():
    recipe = RestorationRecipe()
    assert recipe.config() == RestorerConfig.preset("small", bottleneck="attention")
    assert recipe.degradation() == Degradation("denoise", snr_db=(0.0, 10.0), low_rate=8000)
    assert recipe.weights() == LossWeights(100.0, 1.0, 2.0, "lsgan")
    assert (recipe.reconstruction_steps, recipe.adversarial_steps) == (2000, 1000)
    listed = RestorationRecipe(snr_db=[0.0, 5.0])  # as read back from a checkpoint's JSON
    assert listed.degradation().snr_db == (0.0, 5.0)


def test_every_variant_is_a_valid_recipe():
    assert set(VARIANTS) == {"denoiser", "bandwidth", "denoiser_conv", "bandwidth_l1"}
    for name, changes in VARIANTS.items():
        recipe = RestorationRecipe(**changes)
        assert recipe.degradation().task == ("denoise" if "denoiser" in name else "bandwidth")
        assert recipe.config().bottleneck == ("conv" if name == "denoiser_conv" else "attention")
        assert recipe.adversarial == (name != "bandwidth_l1")


def test_profile_section():
    for name in ("ci", "full"):
        section = get_profile(name).restoration
        assert isinstance(section, RestorationProfile)
        assert section.eval_clips > 0 and 0 < section.max_lsd_ratio < 1
    assert get_profile("ci").restoration.eval_clips < get_profile("full").restoration.eval_clips


def test_tiny_denoising_run():
    model = Restorer(_tiny_recipe().config())
    history = train_restorer(model, _tiny_recipe(), get_profile("ci"), progress=False)
    assert history["steps"] == [3, 6]
    assert history["measure"] == "si_sdr"
    assert len(history["validation"]) == 2
    assert all(isinstance(v, float) for v in history["validation"])
    assert set(history["losses"][0]) == {"reconstruction", "generator"}  # step 3: L1 only
    assert set(history["losses"][1]) == GAN_KEYS  # step 6: adversarial
    assert history["seconds"] >= 0 and not model.training


def test_tiny_bandwidth_run_without_critic(capsys):
    recipe = _tiny_recipe(task="bandwidth", adversarial=False, reconstruction_steps=2,
                          adversarial_steps=1)  # fmt: skip
    model = Restorer(recipe.config())
    history = train_restorer(model, recipe, get_profile("ci"), progress=True)
    assert history["steps"] == [3]  # the last step is always validated
    assert history["measure"] == "lsd_high" and history["validation"][0] > 0
    assert set(history["losses"][0]) == {"reconstruction", "generator"}  # no critic at all
    assert "step 3/3: lsd_high" in capsys.readouterr().out


def test_save_and_load_round_trip(tmp_path):
    model = _trained_looking()
    path = save_restorer(tmp_path / "restorer.pt", model, {"note": "test", "scores": [1.0, 2.0]})
    assert path == tmp_path / "restorer.pt"
    assert next(model.parameters()).dtype == torch.float32  # the model itself is not halved
    loaded, metadata = load_restorer(path=path)
    assert metadata["model"] == "Restorer" and metadata["note"] == "test"
    assert metadata["scores"] == [1.0, 2.0]
    assert loaded.config == model.config and not loaded.training
    assert next(loaded.parameters()).dtype == torch.float32
    stored = torch.load(path, weights_only=True)["state_dict"]
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    wave = torch.randn(1, 4000) * 0.1
    with torch.no_grad():
        expected, actual = model(wave), loaded(wave)
    assert not torch.allclose(expected, wave, atol=1e-3)  # the gains do something
    assert (actual - expected).norm() / expected.norm() < 1e-2
    loaded_again, _ = load_restorer("denoiser", path=str(path))  # a str path, variant ignored
    assert loaded_again.config == model.config


def test_save_refuses_to_overwrite(tmp_path):
    model = _trained_looking()
    path = save_restorer(tmp_path / "restorer.pt", model, {})
    with pytest.raises(FileExistsError):
        save_restorer(path, model, {})
    conv = Restorer(RestorerConfig.preset("tiny", bottleneck="conv"))
    save_restorer(path, conv, {}, overwrite=True)
    assert load_restorer(path=path)[0].config.bottleneck == "conv"


def test_load_errors_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.restoration"):
        load_restorer(path=tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00\x01 not a checkpoint \xff" * 10)
    with pytest.raises(ValueError, match="corrupt"):
        load_restorer(path=tmp_path / "junk.pt")
    other = save_checkpoint(tmp_path / "codec.pt", torch.nn.Linear(2, 2),
                            metadata={"model": "Codec"})  # fmt: skip
    with pytest.raises(ValueError, match="holds another model, not a restoration generator"):
        load_restorer(path=other)
    bare = tmp_path / "bare.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), bare)  # no metadata at all
    with pytest.raises(ValueError, match="another model"):
        load_restorer(path=bare)
    with pytest.raises(ValueError, match="variant must be one of"):
        load_restorer("vocoder")


def test_checkpoint_paths():
    for name in VARIANTS:
        path = checkpoint_path(name)
        assert path.name == f"{name}.pt" and str(path).endswith(f"{name}.pt")
        assert path.parent == CHECKPOINT_DIR
    assert checkpoint_path() == checkpoint_path("denoiser")
    assert CHECKPOINT_DIR.parts[-2:] == ("restoration", "checkpoints")
    with pytest.raises(ValueError, match=r"variant must be one of \['bandwidth', "):
        checkpoint_path("nope")


def test_build_checkpoint_refuses_before_training(tmp_path):
    existing = tmp_path / "denoiser.pt"
    existing.write_bytes(b"x")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        build_checkpoint("denoiser", existing, progress=False)
    with pytest.raises(ValueError, match="variant must be one of"):
        build_checkpoint("nope", tmp_path / "nope.pt", progress=False)
