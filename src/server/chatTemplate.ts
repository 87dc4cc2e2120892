/**
 * Chat messages to prompt tokens. A model's own template comes from its GGUF (`tokenizer.chat_template`)
 * and is rendered with @huggingface/jinja, a Jinja made for chat templates, with the variables llama.cpp
 * passes (messages, add_generation_prompt, bos_token, eos_token). Models without one (the embedded pair,
 * trained on plain Python source) get the plain template: the messages' contents, one after another,
 * separated by a blank line, and nothing else, so a chat about code reads as the code itself.
 */
import { Template } from "@huggingface/jinja";
import { readGgufHeader } from "../gguf/ggufReader.js";
import type { TokenId, Vocabulary } from "../model/languageModel.js";
import type { ChatMessage } from "./requestParsing.js";

export interface ChatTemplate {
  /** "gguf" (the model's own) or "plain". */
  readonly kind: string;
  /** Prompt tokens for these messages, ready for the assistant's turn. */
  tokens(messages: readonly ChatMessage[]): TokenId[];
}

/** Text of a special token as the template should see it (empty when the model has none). */
function tokenText(vocabulary: Vocabulary, token: TokenId | undefined): string {
  return token === undefined ? "" : vocabulary.tokenText(token);
}

class JinjaChatTemplate implements ChatTemplate {
  readonly kind = "gguf";
  private readonly template: Template;

  constructor(
    source: string,
    private readonly vocabulary: Vocabulary,
  ) {
    this.template = new Template(source);
  }

  tokens(messages: readonly ChatMessage[]): TokenId[] {
    const bos = tokenText(this.vocabulary, this.vocabulary.bos);
    const text = this.template.render({
      messages,
      add_generation_prompt: true,
      bos_token: bos,
      eos_token: tokenText(this.vocabulary, this.vocabulary.eos),
    });
    // Templates that write BOS themselves must not get a second one from the tokenizer.
    const writesBos = bos !== "" && text.startsWith(bos);
    return this.vocabulary.tokenize(text, !writesBos, true);
  }
}

class PlainChatTemplate implements ChatTemplate {
  readonly kind = "plain";

  constructor(private readonly vocabulary: Vocabulary) {}

  tokens(messages: readonly ChatMessage[]): TokenId[] {
    return this.vocabulary.tokenize(messages.map((m) => m.content).join("\n\n"), true);
  }
}

/** The template of a GGUF model file (its own, or the plain one when it has none). */
export function chatTemplateFor(modelFile: string | undefined, vocabulary: Vocabulary): ChatTemplate {
  const source = modelFile ? readGgufHeader(modelFile).metadata.get("tokenizer.chat_template") : undefined;
  return typeof source === "string" && source.trim() !== "" ? new JinjaChatTemplate(source, vocabulary) : new PlainChatTemplate(vocabulary);
}

/** A template from its Jinja source (for models given as objects rather than files, and for tests). */
export function chatTemplateFrom(source: string | undefined, vocabulary: Vocabulary): ChatTemplate {
  return source ? new JinjaChatTemplate(source, vocabulary) : new PlainChatTemplate(vocabulary);
}
