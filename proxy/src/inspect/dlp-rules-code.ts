/**
 * Request-inspection rules of code hosting and CI credentials, from the hosts' published token
 * formats; GitHub's classic tokens carry the CRC-32 of their random part (dlp-checks.ts).
 */
import { crc32TailValid } from "./dlp-checks";
import { END, mixedCase, placeholderTail, START, type DlpRule } from "./dlp-rule";

export const CODE_RULES = [
  {
    id: "github-token",
    family: "code",
    finds: "GitHub tokens `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36 whose last 6 are the CRC-32 of the 30 before",
    pattern: "gh[pousr]_[A-Za-z0-9]{36}",
    anchors: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    valid: (m) => crc32TailValid(m[0], 4),
  },
  {
    id: "github-fine-grained-token",
    family: "code",
    finds: "GitHub fine-grained personal access tokens (`github_pat_` + 22 + `_` + 59)",
    pattern: "github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
    anchors: ["github_pat_"],
  },
  {
    id: "gitlab-token",
    family: "code",
    finds: "GitLab tokens (`glpat-`, `gldt-`, `glrt-`, `glcbt-`... + 20 or more)",
    pattern: `${START}gl(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas|soat|ffct|wt)-[A-Za-z0-9_-]{20,255}`,
    anchors: ["glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-", "glffct-", "glwt-"],
    valid: (m) => /[0-9A-Z]/.test(m[0].slice(6)) && !placeholderTail(m[0]),
  },
  {
    id: "atlassian-api-token",
    family: "code",
    finds: "Atlassian API tokens (`ATATT3` + 150 or more)",
    pattern: `ATATT3[A-Za-z0-9_=-]{150,250}${END}`,
    anchors: ["atatt3"],
  },
  {
    id: "bitbucket-token",
    family: "code",
    finds: "Bitbucket access tokens (`ATCTT3`) and app passwords (`ATBB` + 28 or more)",
    pattern: `ATCTT3[A-Za-z0-9_=-]{150,250}${END}|${START}ATBB[A-Za-z0-9]{28,40}${END}`,
    anchors: ["atctt3", "atbb"],
    valid: (m) => mixedCase(m[0]),
  },
  {
    id: "circleci-token",
    family: "code",
    finds: "CircleCI personal and project tokens (`CCIPAT_`, `CCIPRJ_` + 22 + `_` + 40 hex)",
    pattern: "CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40}",
    anchors: ["ccipat_", "cciprj_"],
  },
  {
    id: "buildkite-token",
    family: "code",
    finds: "Buildkite API tokens (`bkua_` + 40 hex)",
    pattern: "bkua_[a-f0-9]{40}",
    anchors: ["bkua_"],
  },
  {
    id: "netlify-token",
    family: "code",
    finds: "Netlify personal access tokens (`nfp_` + 36 to 40)",
    pattern: `${START}nfp_[A-Za-z0-9]{36,40}${END}`,
    anchors: ["nfp_"],
    valid: (m) => mixedCase(m[0]),
  },
  {
    id: "sonarqube-token",
    family: "code",
    finds: "SonarQube tokens (`sqp_`, `squ_`, `sqa_` + 40 hex)",
    pattern: "sq[pua]_[a-f0-9]{40}",
    anchors: ["sqp_", "squ_", "sqa_"],
  },
] as const satisfies readonly DlpRule[];
