/**
 * A model with a real family's vocabulary that ends its answers at each of that family's end-of-generation
 * tokens on cue: a successor table (src/gguf/successorLlama.ts) in which, for each EOG token E, a cue token P is
 * followed by an ordinary word A, A by E, and E by the word `after`. Any other token is followed by the first
 * route's A, whose E is the end of turn: so a chat prompt, whatever its last token, gets A and then the end of turn.
 * Written once per process into the fixtures' temporary folder.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { TOKEN_TYPE_NORMAL } from "../../src/gguf/byteLevelBpe.js";
import { writeSuccessorLlama } from "../../src/gguf/successorLlama.js";
import { fixtureDir } from "./fixtures.js";
import { familyVocabulary, type RealTokenizerFamily } from "./realTokenizers.js";

/** Words that are one ordinary token in each family's vocabulary, spelled there as here. */
const WORDS = ["world", "Hello", "yes", "no", "red", "blue", "cat", "dog", "one", "two", "sun", "moon", "apple", "green", "left"];

/** A way to one EOG token: the cue token, the word said after it, then the EOG token. */
export interface EndRoute {
  cue: number;
  said: number;
  end: number;
  /** The EOG token's text, for messages. */
  endText: string;
}

export interface EndOfGenerationFixture {
  file: string;
  /** One route per EOG token of the family, the end of turn's first. */
  routes: EndRoute[];
  /** The word that follows every EOG token: what a generation that missed the end would say next. */
  after: number;
}

/** The routes and the word after them, from the family's vocabulary: word tokens by their text. */
function plan(tokens: readonly string[], types: readonly number[], ends: readonly string[]): Omit<EndOfGenerationFixture, "file"> {
  const word = (i: number) => {
    const id = tokens.indexOf(WORDS[i]);
    if (id < 0 || types[id] !== TOKEN_TYPE_NORMAL) throw new Error(`"${WORDS[i]}" is not one ordinary token`);
    return id;
  };
  const routes = ends.map((text, i) => ({ cue: word(1 + 2 * i), said: word(2 + 2 * i), end: tokens.indexOf(text), endText: text }));
  if (routes.some((r) => r.end < 0)) throw new Error(`a token of ${ends.join(" ")} is missing`);
  return { routes, after: word(0) };
}

/** The family's fixture, written on first use. */
export function endOfGenerationFixture(family: RealTokenizerFamily): EndOfGenerationFixture {
  mkdirSync(fixtureDir, { recursive: true });
  const file = path.join(fixtureDir, `ends-${family.name}.gguf`);
  const vocabulary = familyVocabulary(family);
  const ends = [family.endOfTurn, ...family.endOfGeneration.filter((t) => t !== family.endOfTurn)];
  const p = plan(vocabulary.tokens, vocabulary.tokenTypes, ends);
  if (existsSync(file)) return { file, ...p };
  const next = new Map<number, number>();
  for (const r of p.routes) next.set(r.cue, r.said).set(r.said, r.end).set(r.end, p.after);
  writeSuccessorLlama(file, vocabulary, { next, otherwise: p.routes[0].said });
  return { file, ...p };
}
