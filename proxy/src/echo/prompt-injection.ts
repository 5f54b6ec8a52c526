/**
 * Prompt-injection patterns in what an upstream sends back (a route's `response_scan`, off by
 * default): text written to make an agent drop its instructions or send its secrets. A short,
 * stable list matched case-insensitively on the text as sent and folded (dlp-views.ts); it is a
 * tripwire for the common phrasings, not a classifier. Pure.
 */
import { foldUnicode, NON_ASCII, percentDecode } from "../inspect/dlp-views";

export const PROMPT_INJECTION_RULES: readonly { id: string; pattern: RegExp }[] = [
  { id: "ignore-instructions", pattern: /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|system|original)\s+(?:instructions|prompts?|directions|rules|guidelines)\b/i },
  { id: "new-instructions", pattern: /\b(?:new|updated|revised)\s+system\s+(?:prompt|instructions)\s*:|\bsystem\s+prompt\s+override\b/i },
  { id: "role-markers", pattern: /<\|(?:im_start|im_end|system|endoftext)\|>|\[\/?INST\]|<<SYS>>/i },
  { id: "persona-switch", pattern: /\byou\s+are\s+now\s+(?:in\s+)?(?:developer|jailbreak|dan|unrestricted|god)\s+mode\b/i },
  { id: "hide-from-user", pattern: /\bdo\s+not\s+(?:tell|inform|alert|show)\s+(?:the\s+)?user\b/i },
  { id: "exfiltrate-secrets", pattern: /\b(?:send|post|upload|exfiltrate|forward|leak)\s+(?:\w+\s+){0,3}(?:secrets?|credentials|api[\s_-]?keys?|tokens|passwords|env(?:ironment)?\s+variables|\.env|ssh\s+keys?)\s+to\b/i },
];

/** The id of the first pattern in `text` (latin1), or undefined. */
export function promptInjectionIn(text: string): string | undefined {
  const forms = [text, ...(/%[0-9a-f]{2}/i.test(text) ? [percentDecode(text)] : []), ...(NON_ASCII.test(text) ? [foldUnicode(text)] : [])];
  for (const form of forms) {
    for (const rule of PROMPT_INJECTION_RULES) if (rule.pattern.test(form)) return rule.id;
  }
  return undefined;
}
