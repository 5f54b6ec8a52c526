/**
 * Request bodies and headers as an LLM coding agent sends them: Anthropic Messages and OpenAI
 * chat completions carrying a file as a tool result, with ids of the providers' real shapes
 * (`toolu_01` + 22 base62, `msg_01...`, `call_` + 24, `chatcmpl-...`, `req_...`) and the SDKs'
 * headers. Every id is drawn from a seeded PRNG: the same on every run.
 */
import { ALPHABETS, FakeText } from "../../helpers/fake-secrets";

export interface LlmRequest {
  /** Which API shape. */
  api: "anthropic" | "openai";
  /** Raw header list as the proxy reads it (name, value, name, value...). */
  rawHeaders: string[];
  target: string;
  body: Buffer;
}

const SYSTEM = "You are a coding agent working in a repository. Use the tools to read and edit files; run tests before you answer.";

/** The tool definitions both APIs carry in every request. */
const TOOLS = [
  { name: "read_file", description: "Read a file of the workspace.", input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
  { name: "bash", description: "Run a shell command.", input_schema: { type: "object", properties: { command: { type: "string" }, timeout: { type: "number" } }, required: ["command"] } },
];

/** An Anthropic Messages request whose last turn returns `text` as the content of `path`. */
export function anthropicRequest(path: string, text: string, seed: number): LlmRequest {
  const t = new FakeText(seed);
  const toolId = `toolu_01${t.of(ALPHABETS.b62, 22)}`;
  const earlier = `toolu_01${t.of(ALPHABETS.b62, 22)}`;
  const body = JSON.stringify({
    model: "claude-sonnet-4-5-20250929",
    max_tokens: 32000,
    stream: true,
    system: [{ type: "text", text: SYSTEM, cache_control: { type: "ephemeral" } }],
    messages: [
      { role: "user", content: [{ type: "text", text: `Look at ${path} and tell me what it does.` }] },
      { role: "assistant", content: [{ type: "tool_use", id: earlier, name: "bash", input: { command: `ls -la $(dirname ${path})` } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: earlier, content: "total 8\ndrwxr-xr-x 2 agent agent 4096 Dec  7 12:00 .\n" }] },
      { role: "assistant", content: [{ type: "text", text: "I'll read the file." }, { type: "tool_use", id: toolId, name: "read_file", input: { path } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: toolId, content: text, cache_control: { type: "ephemeral" } }] },
    ],
    tools: TOOLS,
    metadata: { user_id: `user_${t.of(ALPHABETS.hex, 64)}_account_${t.uuid()}_session_${t.uuid()}` },
  });
  const bytes = Buffer.from(body, "utf8");
  const rawHeaders = [
    "accept", "application/json",
    "anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14",
    "anthropic-dangerous-direct-browser-access", "true",
    "anthropic-version", "2023-06-01",
    "content-type", "application/json",
    "user-agent", "claude-cli/2.0.14 (external, cli)",
    "x-app", "cli",
    "x-stainless-arch", "x64",
    "x-stainless-helper-method", "stream",
    "x-stainless-lang", "js",
    "x-stainless-os", "Linux",
    "x-stainless-package-version", "0.60.0",
    "x-stainless-retry-count", "0",
    "x-stainless-runtime", "node",
    "x-stainless-runtime-version", "v20.20.2",
    "x-stainless-timeout", "600",
    "content-length", String(bytes.length),
    "accept-encoding", "gzip, deflate, br, zstd",
    "connection", "keep-alive",
  ];
  return { api: "anthropic", rawHeaders, target: "/v1/messages?beta=true", body: bytes };
}

/** An OpenAI chat completions request whose last turn returns `text` as the content of `path`. */
export function openaiRequest(path: string, text: string, seed: number): LlmRequest {
  const t = new FakeText(seed);
  const callId = `call_${t.of(ALPHABETS.b62, 24)}`;
  const body = JSON.stringify({
    model: "gpt-4.1-2025-04-14",
    stream: true,
    stream_options: { include_usage: true },
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: `Look at ${path} and tell me what it does.` },
      { role: "assistant", content: null, tool_calls: [{ id: callId, type: "function", function: { name: "read_file", arguments: JSON.stringify({ path }) } }] },
      { role: "tool", tool_call_id: callId, content: text },
    ],
    tools: TOOLS.map((tool) => ({ type: "function", function: { name: tool.name, description: tool.description, parameters: tool.input_schema } })),
    metadata: { previous: `chatcmpl-${t.of(ALPHABETS.b62, 29)}`, request: `req_${t.of(ALPHABETS.hex, 32)}`, message: `msg_01${t.of(ALPHABETS.b62, 22)}` },
    user: `session-${t.uuid()}`,
  });
  const bytes = Buffer.from(body, "utf8");
  const rawHeaders = [
    "accept", "application/json",
    "content-type", "application/json",
    "user-agent", "OpenAI/JS 5.23.1",
    "x-stainless-arch", "x64",
    "x-stainless-lang", "js",
    "x-stainless-os", "Linux",
    "x-stainless-package-version", "5.23.1",
    "x-stainless-retry-count", "0",
    "x-stainless-runtime", "node",
    "x-stainless-runtime-version", "v20.20.2",
    "idempotency-key", `stainless-node-retry-${t.uuid()}`,
    "openai-organization", `org-${t.of(ALPHABETS.b62, 24)}`,
    "openai-project", `proj_${t.of(ALPHABETS.b62, 24)}`,
    "content-length", String(bytes.length),
    "accept-encoding", "gzip, deflate",
    "connection", "keep-alive",
  ];
  return { api: "openai", rawHeaders, target: "/v1/chat/completions", body: bytes };
}
