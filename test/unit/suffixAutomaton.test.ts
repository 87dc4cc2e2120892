/**
 * The suffix automaton against brute force on random short texts (an alphabet of 3 tokens makes repeats common),
 * the suffix walk on texts small enough to follow by hand, and the corpus's bound.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SuffixAutomaton } from "../../src/drafters/suffixAutomaton.js";
import { SuffixCorpus } from "../../src/drafters/suffixCorpus.js";
import { SuffixWalk } from "../../src/drafters/suffixWalk.js";
import { Random } from "../../src/util/random.js";

/** End positions of every occurrence of `pattern` in `text`. */
function ends(text: readonly number[], pattern: readonly number[]): number[] {
  const out: number[] = [];
  for (let e = pattern.length - 1; e < text.length; e++) if (pattern.every((t, j) => text[e - pattern.length + 1 + j] === t)) out.push(e);
  return out;
}

/** The state a pattern leads to from the root, or -1. */
function find(a: SuffixAutomaton, pattern: readonly number[]): number {
  let s = 0;
  for (const t of pattern) {
    s = a.next(s, t);
    if (s < 0) return -1;
  }
  return s;
}

test("counts, latest ends and the longest repeated suffix equal brute force on random texts", () => {
  const rng = new Random(3);
  for (let trial = 0; trial < 40; trial++) {
    const a = new SuffixAutomaton();
    const text: number[] = [];
    const n = 5 + Math.floor(rng.next() * 40);
    for (let i = 0; i < n; i++) {
      const t = Math.floor(rng.next() * 3);
      a.push(t);
      text.push(t);
      // Longest suffix that also ends earlier.
      let want = 0;
      for (let len = text.length - 1; len > 0; len--)
        if (ends(text, text.slice(-len)).length >= 2) {
          want = len;
          break;
        }
      assert.equal(a.longestRepeatedSuffix().length, want, `text ${text.join("")}`);
    }
    // Every substring of up to 4 tokens: its count and its latest end before the text's end.
    for (let start = 0; start < text.length; start++)
      for (let len = 1; len <= 4 && start + len <= text.length; len++) {
        const pattern = text.slice(start, start + len);
        const s = find(a, pattern);
        const at = ends(text, pattern);
        assert.equal(a.count(s), at.length, `count of ${pattern.join("")} in ${text.join("")}`);
        const before = at.filter((e) => e < text.length - 1);
        assert.equal(a.endBefore(s, text.length - 1), before.length ? before[before.length - 1] : -1);
      }
    assert.equal(find(a, [...text, 9]), -1, "a token never seen leads nowhere");
  }
});

test("the walk drafts what most often followed the longest repeated suffix, and goes round a loop", () => {
  const a = new SuffixAutomaton();
  // "0 1 2" ends at 2, 6, 10 and at the text's end (14), followed by 3, 3 and 4; "4 0 1 2" never ended before.
  a.pushAll([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 4, 0, 1, 2]);
  const m = a.longestRepeatedSuffix();
  assert.equal(m.length, 3);
  const walk = new SuffixWalk(a, m.state, m.length, 2);
  const first = walk.step()!;
  // After "0 1 2": 3 twice, 4 once.
  assert.deepEqual([first.token, first.match, first.share], [3, 3, 2 / 3]);
  assert.deepEqual(walk.alternatives(first), [{ token: 4, share: 1 / 3 }]);
  // "0 1 2 3" was followed by 0 both times.
  assert.equal(walk.step()!.token, 0);

  // A loop of period 3: the walk runs past the text's end and falls back to the shorter suffix that goes on.
  const loop = new SuffixAutomaton();
  loop.pushAll([7, 5, 6, 8, 5, 6, 8, 5, 6, 8]);
  const l = loop.longestRepeatedSuffix();
  assert.equal(l.length, 6, "'5 6 8 5 6 8' ended at 6 and at 9");
  const round = new SuffixWalk(loop, l.state, l.length, 2);
  assert.deepEqual(
    Array.from({ length: 8 }, () => round.step()!.token),
    [5, 6, 8, 5, 6, 8, 5, 6],
  );
  // A text with no repeat has nothing to draft.
  const none = new SuffixAutomaton();
  none.pushAll([1, 2, 3]);
  const n = none.longestRepeatedSuffix();
  assert.equal(new SuffixWalk(none, n.state, n.length, 1).step(), undefined);
});

test("a corpus matches across documents, never drafts a separator, and keeps the newest documents within its bound", () => {
  const corpus = new SuffixCorpus(12);
  corpus.add([1, 2, 3, 4]);
  corpus.add([5, 6, 7]);
  // The context "x 1 2" matches "1 2" of the first document: its walk drafts 3, 4, then stops at the separator.
  let m = { state: 0, length: 0 };
  for (const t of [9, 1, 2]) m = corpus.automaton.advance(m.state, m.length, t);
  assert.equal(m.length, 2);
  const walk = new SuffixWalk(corpus.automaton, m.state, m.length, 1);
  assert.deepEqual([walk.step()?.token, walk.step()?.token, walk.step()], [3, 4, undefined]);
  // 5 + 4 tokens held (with separators); a 4-token document does not fit beside both: the oldest goes.
  corpus.add([8, 8, 8, 8]);
  assert.equal(corpus.size, 2);
  let k = { state: 0, length: 0 };
  for (const t of [1, 2]) k = corpus.automaton.advance(k.state, k.length, t);
  assert.equal(k.length, 0, "the first document was dropped");
});
