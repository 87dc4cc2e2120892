import { CELL_ORDER, type LanguageModel, type ModelSession, type PassNumerics } from "../../src/model/session.js";

/** CUDA's stock kernels: the pass's size picks them. */
export const PASS_SIZE: PassNumerics = { passSizeMatters: true, prefillsApart: false };
/** CUDA with batch invariance: stock prefills, invariant passes otherwise. */
export const PREFILLS_APART: PassNumerics = { passSizeMatters: false, prefillsApart: true };

/**
 * The model with its sessions reporting `numerics` (undefined: CELL_ORDER, what a session that says nothing more reports): how this CPU machine stands in for CUDA
 * sessions, stock or batch-invariant. `opened` keeps every session opened, for the test to look into.
 */
export function reportingNumerics(model: LanguageModel, numerics: PassNumerics | undefined): { model: LanguageModel; opened: ModelSession[] } {
  const opened: ModelSession[] = [];
  const wrap = (s: ModelSession): ModelSession => {
    const capabilities = { ...s.capabilities, passNumerics: numerics ?? CELL_ORDER };
    return new Proxy(s, {
      get(target, key) {
        if (key === "capabilities") return capabilities;
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  const wrapped: LanguageModel = {
    name: model.name,
    vocabulary: model.vocabulary,
    trainContextSize: model.trainContextSize,
    createSession: async (o) => {
      const s = wrap(await model.createSession(o));
      opened.push(s);
      return s;
    },
    dispose: () => undefined,
  };
  return { model: wrapped, opened };
}
