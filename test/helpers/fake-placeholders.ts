/**
 * Placeholders as components write them for `agent_env`: not secrets, but canaries the proxy
 * must refuse anywhere but their own route's credential header. Shaped like the credentials
 * they stand for, and recognisably fake.
 */
export const FAKE_PLACEHOLDERS = {
  /** For the Bearer route of api.github.test. */
  github: "ghp_PLACEHOLDERfakeNotASecret000000000000",
  /** For the x-api-key route of api.anthropic.test. */
  anthropic: "sk-ant-api03-PLACEHOLDER-fake-not-a-secret-0000",
  /** For the Basic route of git.test (git over HTTPS). */
  git: "ghp_PLACEHOLDERgitFakeNotASecret11111111",
} as const;
