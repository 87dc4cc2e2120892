/**
 * RoPE scaling of long-context llama models, written as llama.cpp's converter writes it (convert_hf_to_gguf.py):
 * Llama-3.1's scaling ("llama3") as a `rope_freqs.weight` tensor of per-frequency factors and no scaling keys;
 * YaRN as `llama.rope.scaling.type = "yarn"` with its factor and original context length.
 */
import { type GgufValue, gguf } from "./ggufTypes.js";

/** Llama-3.1's scaling: low frequencies slowed by `factor`, high ones kept, those between interpolated. */
export interface Llama3RopeScaling {
  kind: "llama3";
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalContextLength: number;
}

export interface YarnRopeScaling {
  kind: "yarn";
  factor: number;
  originalContextLength: number;
}

export type RopeScaling = Llama3RopeScaling | YarnRopeScaling;

/** Llama-3.1's rope_scaling (its config.json): 128k positions from an 8k original context. */
export const LLAMA_3_1_ROPE_SCALING: Llama3RopeScaling = { kind: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContextLength: 8192 };

/** The name llama.cpp gives the factors tensor (LLM_TENSOR_ROPE_FREQS), read from layer 0 on. */
export const ROPE_FREQS_TENSOR = "rope_freqs.weight";

/**
 * Llama-3.1's factor for each rotary frequency of a head of `headSize` (headSize / 2 values): 1 for wavelengths
 * below original / highFreqFactor, `factor` above original / lowFreqFactor, interpolated between; as
 * LlamaModel.generate_extra_tensors computes them.
 */
export function llama3RopeFactors(headSize: number, ropeBase: number, s: Llama3RopeScaling): Float32Array {
  const lowWavelength = s.originalContextLength / s.lowFreqFactor;
  const highWavelength = s.originalContextLength / s.highFreqFactor;
  const out = new Float32Array(headSize / 2);
  for (let i = 0; i < out.length; i++) {
    const wavelength = 2 * Math.PI * ropeBase ** ((2 * i) / headSize);
    if (wavelength < highWavelength) out[i] = 1;
    else if (wavelength > lowWavelength) out[i] = s.factor;
    else {
      const smooth = (s.originalContextLength / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/** The metadata keys of a scaling (Llama-3.1's has none: its factors are the tensor). */
export function ropeScalingMetadata(s: RopeScaling | undefined): [string, GgufValue][] {
  if (s?.kind !== "yarn") return [];
  return [
    ["llama.rope.scaling.type", gguf.str("yarn")],
    ["llama.rope.scaling.factor", gguf.f32(s.factor)],
    ["llama.rope.scaling.original_context_length", gguf.u32(s.originalContextLength)],
  ];
}
