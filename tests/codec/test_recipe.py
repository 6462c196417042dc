"""course_utils.codec.recipe: the loss's autoencoder phase, saving and loading codecs."""

import pytest
import torch

from course_utils.codec import (
    Codec,
    CodecConfig,
    CodecRecipe,
    codec_loss,
    load_codec,
    save_codec,
)
from course_utils.training import save_checkpoint


def test_first_steps_skip_the_quantiser_then_kmeans_starts_it():
    torch.manual_seed(0)
    recipe = CodecRecipe(preset="tiny", transformer_layers=0, autoencoder_steps=2,
                         n_q_choices=(2, 4))
    codec, loss = Codec(recipe.config()).train(), codec_loss(recipe)
    batch = torch.randn(2, 1, 3200) * 0.1
    for _ in range(2):
        loss(codec, batch)
        assert not codec.quantizer.stages[0].initialized
    loss(codec, batch)
    assert codec.quantizer.stages[0].initialized and loss.steps == 3


def test_eval_loss_uses_every_stage_and_is_deterministic():
    torch.manual_seed(0)
    recipe = CodecRecipe(preset="tiny", autoencoder_steps=0, n_q_choices=(4,))
    codec, loss = Codec(recipe.config()), codec_loss(recipe)
    batch = torch.randn(2, 1, 3200) * 0.1
    codec.train()
    loss(codec, batch)
    codec.eval()
    with torch.no_grad():
        assert float(loss(codec, batch)) == float(loss(codec, batch))
        assert float(loss(codec, batch)) == float(loss(codec, batch, n_q=4))


def test_save_in_half_precision_and_load(tmp_path):
    torch.manual_seed(0)
    codec = Codec(CodecConfig.preset("tiny", transformer_layers=1)).eval()
    path = save_codec(tmp_path / "codec.pt", codec, {"note": "test"})
    loaded, metadata = load_codec(path)
    assert metadata["model"] == "Codec" and metadata["note"] == "test"
    assert loaded.config == codec.config
    assert next(loaded.parameters()).dtype == torch.float32
    wave = torch.randn(1, 1, 1600) * 0.1
    with torch.no_grad():
        assert torch.allclose(loaded(wave)[0], codec(wave)[0], atol=2e-3)
    with pytest.raises(FileExistsError):
        save_codec(path, codec, {})


def test_load_errors_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m course_utils.codec"):
        load_codec(tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError):
        load_codec(tmp_path / "bad.pt")
    other = save_checkpoint(tmp_path / "other.pt", torch.nn.Linear(2, 2), metadata={"model": "X"})
    with pytest.raises(ValueError, match="another model"):
        load_codec(other)


def test_stage_choices_beyond_the_codec_are_refused():
    with pytest.raises(ValueError, match="between 1 and the codec's 4 stages"):
        codec_loss(CodecRecipe(preset="tiny"))  # the default choices go up to 12 stages
