/** The draft-policy options shared by `generate` and `serve`, and the policy settings they give. */
import { type Command, Option } from "commander";
import { DEFAULT_FREE_MIN_MATCH } from "../drafters/drafter.js";
import { DEFAULT_FREE_SOURCES, type DrafterSettings } from "../drafters/drafterRegistry.js";
import { SETTING_RANGES } from "../generation/settingRanges.js";
import { ADAPTIVE_DEFAULTS } from "../policies/adaptivePolicy.js";
import { CASCADE_DEFAULTS } from "../policies/cascadePolicy.js";
import { DEFAULT_DRAFT_LENGTH } from "../policies/draftPolicy.js";
import { loadHead } from "../policies/head/headModel.js";
import { POLICY_NAMES, type PolicyOptions } from "../policies/policyRegistry.js";
import { DEFAULT_BRANCH_BELOW, DEFAULT_TREE_BUDGET, DEFAULT_TREE_WIDTH } from "../policies/treePolicy.js";
import { RULE_PREFERENCES, type RulePreference } from "../sampling/samplingSettings.js";
import { finiteNumber, inRange, nonNegativeInteger, positiveInteger } from "./optionParsers.js";

export interface PolicyFlags {
  k: number;
  policy: string;
  treeBudget?: number;
  treeWidth?: number;
  branchBelow?: number;
  minQ?: number;
  maxEntropy?: number;
  minAgreement?: number;
  maxK?: number;
  head?: string;
  /** Free sources first (suffix, prompt lookup): the shortest match that drafts a block instead of the draft model; false: off. */
  lookupFirst: number | false;
  /** How sampled tokens are drawn and drafted ones judged. */
  samplingRule: RulePreference;
}

export function addPolicyOptions(command: Command, defaultPolicy = "adaptive"): Command {
  return command
    .option("--k <n>", "draft length (initial length for adaptive policies)", inRange(SETTING_RANGES.k), DEFAULT_DRAFT_LENGTH)
    .addOption(new Option("--policy <name>", "draft policy").choices(POLICY_NAMES).default(defaultPolicy))
    .option("--tree-budget <n>", `tree: most alternative tokens per block (default ${DEFAULT_TREE_BUDGET})`, nonNegativeInteger)
    .option("--tree-width <n>", `tree: most alternatives at one depth (default ${DEFAULT_TREE_WIDTH})`, positiveInteger)
    .option("--branch-below <q>", `tree: branch where the chain token's q is below this (default ${DEFAULT_BRANCH_BELOW})`, finiteNumber)
    .option("--min-q <q>", `cascade stage 1: smallest q(x) (default ${CASCADE_DEFAULTS.minQ})`, finiteNumber)
    .option("--max-entropy <nats>", `cascade stage 1: largest entropy of q (default ${CASCADE_DEFAULTS.maxEntropy})`, finiteNumber)
    .option("--min-agreement <p>", `cascade stage 2: smallest calibrated acceptance estimate (default ${CASCADE_DEFAULTS.minAgreement})`, finiteNumber)
    .option("--max-k <n>", `adaptive: longest draft considered (default ${ADAPTIVE_DEFAULTS.maxK})`, positiveInteger)
    .option("--head <file>", "learned acceptance head (train-head) for the cascade's stage 3 and the adaptive policy")
    .option(
      "--lookup-first <n>",
      "with a draft model: sources at no model cost (suffix drafting, prompt lookup) may draft a block where the context's last n tokens occurred earlier; the model drafts the others",
      positiveInteger,
      DEFAULT_FREE_MIN_MATCH,
    )
    .option("--no-lookup-first", "with a draft model: let the model draft every block")
    .addOption(
      new Option(
        "--sampling-rule <rule>",
        "sampling: coupled (noise keyed by seed and position; the same text as the target alone with that seed, under any policy), rejection (speculative sampling with a residual draw: accepts a draft model's tokens more often; its text depends on how the blocks fell), or auto: coupled where a seed is given, else rejection",
      )
        .choices(RULE_PREFERENCES)
        .default("auto"),
    );
}

/** Policy options from the command line; unset options keep each policy's documented defaults. */
export function policyOptionsFrom(f: Partial<PolicyFlags> & Pick<PolicyFlags, "k">): PolicyOptions {
  return {
    k: f.k,
    tree: { budget: f.treeBudget, width: f.treeWidth, branchBelow: f.branchBelow },
    cascade: { minQ: f.minQ, maxEntropy: f.maxEntropy, minAgreement: f.minAgreement },
    adaptive: { maxK: f.maxK },
  };
}

/** The free sources that draft before a draft model, and their shortest match, from the command line (none: the model alone). */
export function freeSourcesFrom(f: Pick<PolicyFlags, "lookupFirst">): Pick<DrafterSettings, "free" | "freeMinMatch"> {
  return f.lookupFirst === false ? { free: [] } : { free: DEFAULT_FREE_SOURCES, freeMinMatch: f.lookupFirst };
}

/** The same, with the learned head loaded when --head names one. */
export function policyOptionsWithHead(f: PolicyFlags): PolicyOptions {
  return { ...policyOptionsFrom(f), scorer: f.head ? loadHead(f.head) : undefined };
}
