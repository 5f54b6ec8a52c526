/**
 * Request-inspection rules of AI providers' API keys, from the providers' published prefixes.
 * OpenRouter's `sk-or-v1-` comes before OpenAI's `sk-`, Anthropic's `sk-ant-` before both: the
 * first rule that matches names the finding.
 */
import { END, mixedCase, placeholderTail, START, type DlpRule } from "./dlp-rule";

export const AI_RULES = [
  {
    id: "anthropic-key",
    family: "ai",
    finds: "Anthropic API and admin keys (`sk-ant-` + 32 or more)",
    pattern: `${START}sk-ant-[A-Za-z0-9_-]{32,255}`,
    anchors: ["sk-ant-"],
    valid: (m) => !placeholderTail(m[0]),
  },
  {
    id: "openrouter-key",
    family: "ai",
    finds: "OpenRouter API keys (`sk-or-v1-` + 64 hex)",
    pattern: "sk-or-v1-[a-f0-9]{64}",
    anchors: ["sk-or-v1-"],
  },
  {
    id: "openai-key",
    family: "ai",
    finds: "OpenAI API keys (`sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-` + 40 or more, mixed case and digits)",
    pattern: `${START}sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{40,255}`,
    anchors: ["sk-"],
    valid: (m) => mixedCase(m[0]) && !placeholderTail(m[0]),
  },
  {
    id: "huggingface-token",
    family: "ai",
    finds: "Hugging Face tokens (`hf_` + 34 letters) and organisation keys (`api_org_` + 34)",
    pattern: "(?<![A-Za-z0-9_])(?:hf|api_org)_[A-Za-z]{34}(?![A-Za-z0-9_])",
    anchors: ["hf_", "api_org_"],
    // random letters: both cases, many switches; a long identifier has a few humps only
    valid: (m) => (m[0].match(/[A-Z]/g)?.length ?? 0) >= 5 && (m[0].match(/[a-z][A-Z]|[A-Z][a-z]/g)?.length ?? 0) >= 8,
  },
  {
    id: "groq-key",
    family: "ai",
    finds: "Groq API keys (`gsk_` + 52)",
    pattern: "gsk_[A-Za-z0-9]{52}",
    anchors: ["gsk_"],
  },
  {
    id: "replicate-token",
    family: "ai",
    finds: "Replicate API tokens (`r8_` + 37)",
    pattern: `${START}r8_[A-Za-z0-9]{37}${END}`,
    anchors: ["r8_"],
  },
  {
    id: "perplexity-key",
    family: "ai",
    finds: "Perplexity API keys (`pplx-` + 48)",
    pattern: "pplx-[A-Za-z0-9]{48}",
    anchors: ["pplx-"],
  },
  {
    id: "xai-key",
    family: "ai",
    finds: "xAI API keys (`xai-` + 80)",
    pattern: "xai-[A-Za-z0-9]{80}",
    anchors: ["xai-"],
  },
  {
    id: "langsmith-key",
    family: "ai",
    finds: "LangSmith API keys (`lsv2_pt_`, `lsv2_sk_` + 32 hex + `_` + 10 hex)",
    pattern: "lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",
    anchors: ["lsv2_"],
  },
] as const satisfies readonly DlpRule[];
