/**
 * Chat messages to prompt tokens. A model's own template comes from its GGUF (`tokenizer.chat_template`)
 * and is rendered with @huggingface/jinja, a Jinja made for chat templates, with the variables llama.cpp
 * passes (messages, add_generation_prompt, bos_token, eos_token). Models without one (the embedded pair,
 * trained on plain Python source) get the plain template: the messages' contents, one after another,
 * separated by a blank line, and nothing else, so a chat about code reads as the code itself. Special tokens' text
 * in a message (`<|im_end|>` typed by a user) stays text, not the control token, unless asked for.
 */
import { Template } from "@huggingface/jinja";
import { readGgufHeader } from "../gguf/ggufReader.js";
import type { TokenId, Vocabulary } from "../model/vocabulary.js";
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
    private readonly parseSpecialInMessages = false,
  ) {
    this.template = new Template(source);
  }

  tokens(messages: readonly ChatMessage[]): TokenId[] {
    const bos = tokenText(this.vocabulary, this.vocabulary.bos);
    const spelled = this.parseSpecialInMessages ? [] : messages.flatMap((m, i) => (this.hasSpecialText(m.content) ? [i] : []));
    // A content with special tokens' text is rendered as a marker, and tokenized without parsing them in its place.
    const text = this.render(messages.map((m, i) => (spelled.includes(i) ? { ...m, content: marker(i) } : m)));
    // Templates that write BOS themselves must not get a second one from the tokenizer.
    const writesBos = bos !== "" && text.startsWith(bos);
    if (spelled.length === 0) return this.vocabulary.tokenize(text, !writesBos, true);
    return text
      .split(MARKER)
      .flatMap((part, j) =>
        j % 2 === 0 ? this.vocabulary.tokenize(part, j === 0 && !writesBos, true) : this.vocabulary.tokenize(messages[Number(part)].content, false, false),
      );
  }

  private render(messages: readonly ChatMessage[]): string {
    const v = this.vocabulary;
    return this.template.render({ messages, add_generation_prompt: true, bos_token: tokenText(v, v.bos), eos_token: tokenText(v, v.eos) });
  }

  /** Whether the text holds a special token's text (`<|im_end|>`, say): parsing it would give a control token. */
  private hasSpecialText(text: string): boolean {
    const [parsed, plain] = [this.vocabulary.tokenize(text, false, true), this.vocabulary.tokenize(text, false, false)];
    return parsed.length !== plain.length || parsed.some((t, i) => t !== plain[i]);
  }
}

/** Stands for message i's content in a rendered template: private-use characters no tokenizer reads as special. */
const marker = (i: number) => `\u{F0000}${i}\u{F0001}`;
const MARKER = /\u{F0000}(\d+)\u{F0001}/u;

class PlainChatTemplate implements ChatTemplate {
  readonly kind = "plain";

  constructor(private readonly vocabulary: Vocabulary) {}

  tokens(messages: readonly ChatMessage[]): TokenId[] {
    return this.vocabulary.tokenize(messages.map((m) => m.content).join("\n\n"), true);
  }
}

/** The template of a GGUF model file (its own, or the plain one when it has none). */
export function chatTemplateFor(modelFile: string | undefined, vocabulary: Vocabulary, options: ChatTemplateOptions = {}): ChatTemplate {
  const source = modelFile ? readGgufHeader(modelFile).metadata.get("tokenizer.chat_template") : undefined;
  return chatTemplateFrom(typeof source === "string" && source.trim() !== "" ? source : undefined, vocabulary, options);
}

export interface ChatTemplateOptions {
  /** Read special tokens' text in messages as those tokens, as llama.cpp's server does; false by default. */
  parseSpecialInMessages?: boolean;
}

/** A template from its Jinja source (for models given as objects rather than files, and for tests). */
export function chatTemplateFrom(source: string | undefined, vocabulary: Vocabulary, options: ChatTemplateOptions = {}): ChatTemplate {
  return source ? new JinjaChatTemplate(source, vocabulary, options.parseSpecialInMessages) : new PlainChatTemplate(vocabulary);
}
