"""Writes an EAGLE-3 head for verispec's target as a GGUF file in llama.cpp's `eagle3` layout.

The layout is described in docs/eagle3.md. In short: one decoder layer whose Q/K/V read
[norm(token embedding) ; norm(g)], an `fc` that fuses three target layers, its own final norm;
no `token_embd`, `output` or `d2t`, so llama.cpp borrows the target's (tied) embedding matrix for
both ends and the head predicts over the full vocabulary. The target's tokenizer is copied in,
because llama.cpp builds the draft sampler over the head model's own vocabulary.

Python with gguf-py (from the bundled llama.cpp) rather than src/gguf/ggufWriter.ts: the head is
trained in PyTorch on the GPU machine, and writing it in the same process keeps the run one command
with no Node step; gguf-py also knows the eagle3 key names and quantizes Q8_0 in numpy.

Usage (random weights, to check that llama.cpp loads and runs the layout):
  python3 tools/train/eagle3_gguf.py models/verispec-target.gguf /tmp/eagle3-random.gguf
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "native" / ".llama-src" / "gguf-py"))
import gguf  # noqa: E402

# PyTorch parameter name -> GGUF tensor name. Linear weights are [out, in], which is what GGUF's
# row-major numpy view expects (ggml's ne0 is the input dimension).
NAMES = {
    "fc.weight": "fc.weight",
    "embed_norm.weight": "blk.0.attn_norm.weight",
    "hidden_norm.weight": "blk.0.attn_norm_2.weight",
    "q.weight": "blk.0.attn_q.weight",
    "k.weight": "blk.0.attn_k.weight",
    "v.weight": "blk.0.attn_v.weight",
    "o.weight": "blk.0.attn_output.weight",
    "ffn_norm.weight": "blk.0.ffn_norm.weight",
    "gate.weight": "blk.0.ffn_gate.weight",
    "up.weight": "blk.0.ffn_up.weight",
    "down.weight": "blk.0.ffn_down.weight",
    "out_norm.weight": "output_norm.weight",
}


def target_info(target_path):
    """The target's hyperparameters and its tokenizer fields, read from its GGUF."""
    r = gguf.GGUFReader(target_path)
    arch = r.fields["general.architecture"].contents()
    hp = {k[len(arch) + 1:]: f.contents() for k, f in r.fields.items() if k.startswith(arch + ".")}
    tok = {k: f for k, f in r.fields.items() if k.startswith("tokenizer.")}
    return hp, tok


def copy_field(w, key, field):
    # Arrays keep their element type (token types are int32, tokens/merges strings).
    vtype = field.types[0]
    sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
    w.add_key_value(key, field.contents(), vtype, sub_type=sub)


def as_array(value, quantize):
    a = np.ascontiguousarray(value.detach().float().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float32)
    if quantize and a.ndim == 2 and a.shape[1] % 32 == 0:
        return gguf.quants.quantize(a, gguf.GGMLQuantizationType.Q8_0), gguf.GGMLQuantizationType.Q8_0
    return a, None


def write_head(out_path, state_dict, target_path, target_layers, ffn, heads, quantize=True, name="verispec-eagle3"):
    """Writes `state_dict` (keys of NAMES) as an eagle3 GGUF; norms stay F32, matrices Q8_0."""
    hp, tok = target_info(target_path)
    n_embd = int(hp["embedding_length"])
    assert state_dict["fc.weight"].shape[0] == n_embd, "the head's width must equal the target's (shared embeddings)"
    w = gguf.GGUFWriter(str(out_path), "eagle3")
    w.add_name(name)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if quantize else gguf.LlamaFileType.ALL_F32)
    w.add_context_length(int(hp["context_length"]))
    w.add_embedding_length(n_embd)
    w.add_block_count(1)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(heads)
    w.add_rope_dimension_count(n_embd // heads)
    w.add_rope_freq_base(float(hp["rope.freq_base"]))
    w.add_layer_norm_rms_eps(float(hp["attention.layer_norm_rms_epsilon"]))
    w.add_vocab_size(int(hp["vocab_size"]))
    w.add_target_layers([int(x) for x in target_layers])
    w.add_target_hidden_size(n_embd)
    for key, field in tok.items():
        copy_field(w, key, field)
    for torch_name, gguf_name in NAMES.items():
        data, qtype = as_array(state_dict[torch_name], quantize)
        w.add_tensor(gguf_name, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def random_state_dict(n_embd=512, ffn=1280, seed=0):
    """Random weights with unit norms: enough to prove the layout loads and runs."""
    rng = np.random.default_rng(seed)
    shapes = {"fc.weight": (n_embd, 3 * n_embd), "q.weight": (n_embd, 2 * n_embd), "k.weight": (n_embd, 2 * n_embd),
              "v.weight": (n_embd, 2 * n_embd), "o.weight": (n_embd, n_embd), "gate.weight": (ffn, n_embd),
              "up.weight": (ffn, n_embd), "down.weight": (n_embd, ffn)}
    sd = {k: (rng.standard_normal(s) * 0.02).astype(np.float32) for k, s in shapes.items()}
    for k in ("embed_norm.weight", "hidden_norm.weight", "ffn_norm.weight", "out_norm.weight"):
        sd[k] = np.ones(n_embd, dtype=np.float32)
    return sd


if __name__ == "__main__":
    target, out = sys.argv[1], sys.argv[2]
    write_head(out, random_state_dict(), target, target_layers=[2, 4, 7], ffn=1280, heads=8)
    print(f"wrote {out} ({Path(out).stat().st_size / 1e6:.1f} MB)")
