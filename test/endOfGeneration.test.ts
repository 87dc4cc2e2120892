/**
 * Generation ends at each token llama.cpp counts as end of generation, with Llama 3.1's, Qwen3's and Gemma3's real
 * vocabularies: models whose greedy next token is a table (test/helpers/endOfGenerationFixture.ts) say one word,
 * then an EOG token, then (were the EOG token missed) another word. The library and /v1/chat/completions must
 * stop at the EOG token, keep it and all after it out of the output, and say so; with every drafter, all of
 * which draft the EOG token here (the target's pass then adds a token after it), the output is the target alone's.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type OpenAI from "openai";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import { chatTemplateFor } from "../src/server/chatTemplate.js";
import { type EndOfGenerationFixture, type EndRoute, endOfGenerationFixture } from "./helpers/endOfGenerationFixture.js";
import { drafterKinds } from "./helpers/generate.js";
import { FAMILIES, withChatServer } from "./helpers/realTokenizers.js";

const OPTIONS = { maxTokens: 8, contextSize: 64 };
/** The server's drafters, chosen per request; "none" is the target alone. */
const SERVER_DRAFTS = ["none", "model", "prompt-lookup", "suffix"] as const;

const textOf = (model: LlamaCppModel, tokens: number[]) => Buffer.concat(tokens.map((t) => model.vocabulary.piece(t))).toString("utf8");

/** A generation as the tests compare it: tokens out, text out, why it ended. */
async function outcome(steps: ReturnType<typeof generateTargetOnly>) {
  const r = await collectGeneration(steps);
  return { tokens: r.tokens, text: r.text, finish: r.steps.at(-1)?.finish };
}

/** How the verified blocks met the EOG token: whether one was accepted, and whether any block drafted past it. */
function blockWatch(end: number) {
  const seen = { endAccepted: false, draftedPastEnd: false };
  const inspect = (v: { block: { tokens: number[] }; accepted: number }) => {
    const at = v.block.tokens.indexOf(end);
    seen.endAccepted ||= at >= 0 && at < v.accepted;
    seen.draftedPastEnd ||= at >= 0 && at < v.block.tokens.length - 1;
  };
  return { seen, inspect };
}

/** Generation after the route's cue, by the target alone and with each drafter. */
async function checkRoute(target: LlamaCppModel, draft: LlamaCppModel, f: EndOfGenerationFixture, route: EndRoute): Promise<void> {
  // The prompt shows the route and the word after its EOG token, then the cue again: the prompt-lookup and suffix
  // drafters, matching the cue and then the word, draft the EOG token next, and the draft model (the same table)
  // drafts the word and the EOG token. The target's pass then adds its own token after the EOG token, the word
  // `after`, which must not come out.
  const prompt = [route.cue, route.said, route.end, f.after, f.after, route.cue];
  const alone = await outcome(generateTargetOnly(target, prompt, OPTIONS));
  // The table says: cue, then the word, then the EOG token, which ends generation ("eos") and is not output.
  const expected = { tokens: [route.said], text: textOf(target, [route.said]), finish: "eos" };
  assert.deepEqual(alone, expected, route.endText);
  for (const [name, drafter] of Object.entries(drafterKinds(target, draft, OPTIONS))) {
    const { seen, inspect } = blockWatch(route.end);
    const label = `${name} at ${route.endText}`;
    assert.deepEqual(await outcome(generateSpeculative(target, drafter(), prompt, { ...OPTIONS, inspect })), expected, label);
    // The EOG token came from the drafter and the target accepted it: the stop happened inside a verified block;
    // and drafting stopped at it (what a drafter proposes after it could never be output).
    assert.deepEqual(seen, { endAccepted: true, draftedPastEnd: false }, label);
  }
}

/** A chat answer over HTTP, streamed or not: its content, finish reason and completion tokens (streamed: chunks with text). */
async function chat(client: OpenAI, model: string, content: string, draft: string, stream: boolean) {
  const body = { model, messages: [{ role: "user" as const, content }], max_tokens: 8, temperature: 0, verispec: { draft } };
  if (!stream) {
    const r = await client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    return { content: r.choices[0].message.content, finish: r.choices[0].finish_reason, tokens: r.usage?.completion_tokens };
  }
  let text = "";
  let finish: string | null = null;
  let chunks = 0;
  for await (const c of await client.chat.completions.create({ ...body, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) {
    text += c.choices[0]?.delta.content ?? "";
    if (c.choices[0]?.delta.content) chunks++;
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  return { content: text, finish, tokens: chunks };
}

for (const family of FAMILIES) {
  describe(family.name, () => {
    let f: EndOfGenerationFixture;
    let target: LlamaCppModel;
    let draft: LlamaCppModel;
    before(async () => {
      f = endOfGenerationFixture(family);
      target = await LlamaCppModel.load(f.file, { threads: 1 });
      draft = await LlamaCppModel.load(f.file, { threads: 1 });
    });
    after(() => {
      target.dispose();
      draft.dispose();
    });

    test("llama.cpp ends generation at exactly the family's end-of-generation tokens", () => {
      const v = target.vocabulary;
      const ends = Array.from({ length: v.size }, (_, t) => t).filter((t) => v.isEndOfGeneration(t));
      // The list in test/helpers/realTokenizers.ts says why each is there.
      assert.deepEqual(ends.map((t) => v.tokenText(t)).sort(), [...family.endOfGeneration].sort());
    });

    test("the library stops at each end-of-generation token, the target alone and with every drafter", async () => {
      for (const route of f.routes) await checkRoute(target, draft, f, route);
    });

    test("/v1/chat/completions stops at the end of turn, streamed or not, with every drafter as without one", async () => {
      const [route] = f.routes;
      const [said, afterEnd] = [textOf(target, [route.said]), textOf(target, [f.after])];
      // The message shows the word, the end of turn and the word after it, so that the lookup drafters draft the end
      // of turn after the word (and the target's pass adds the word after it, which must not come out).
      const message = `${said}${route.endText}${afterEnd}`;
      const prompt = chatTemplateFor(f.file, target.vocabulary, { parseSpecialInMessages: true }).tokens([{ role: "user", content: message }]);
      assert.ok(prompt.some((t, i) => t === route.said && prompt[i + 1] === route.end && prompt[i + 2] === f.after));
      // The prompt's last token (the template's "assistant" header) is none of the table's, so the model says the
      // end of turn's word, then the end of turn: the answer is the word alone (one completion token; streamed, one
      // chunk of text), and it ended on a stop.
      const served = { target, draft, file: f.file, modelId: family.name, parseSpecialInMessages: true };
      await withChatServer(served, async (client) => {
        for (const d of SERVER_DRAFTS) {
          for (const stream of [false, true]) {
            const r = await chat(client, family.name, message, d, stream);
            assert.deepEqual(r, { content: said, finish: "stop", tokens: 1 }, `${d}${stream ? ", streamed" : ""}`);
            assert.ok(!r.content?.includes(route.endText));
          }
        }
      });
    });
  });
}
