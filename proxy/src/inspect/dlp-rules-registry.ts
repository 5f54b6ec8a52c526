/**
 * Request-inspection rules of package registries' publish tokens, from the registries' published
 * formats; npm's carry the CRC-32 of their random part, as GitHub's do (dlp-checks.ts).
 */
import { crc32TailValid } from "./dlp-checks";
import { mixedCase, type DlpRule } from "./dlp-rule";

export const REGISTRY_RULES = [
  {
    id: "npm-token",
    family: "registry",
    finds: "npm access tokens (`npm_` + 36 whose last 6 are the CRC-32 of the 30 before)",
    pattern: "npm_[A-Za-z0-9]{36}",
    anchors: ["npm_"],
    valid: (m) => crc32TailValid(m[0], 4),
  },
  {
    id: "pypi-token",
    family: "registry",
    finds: "PyPI API tokens (`pypi-AgEIcHlwaS5vcmc` + 40 or more)",
    pattern: "(?<![A-Za-z0-9_-])pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{40,255}",
    anchors: ["pypi-ageichlwas5vcmc"],
  },
  {
    id: "rubygems-key",
    family: "registry",
    finds: "RubyGems API keys (`rubygems_` + 48 hex)",
    pattern: "rubygems_[a-f0-9]{48}",
    anchors: ["rubygems_"],
  },
  {
    id: "dockerhub-token",
    family: "registry",
    finds: "Docker Hub personal and organisation access tokens (`dckr_pat_`, `dckr_oat_` + 27 or more)",
    pattern: "dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,64}",
    anchors: ["dckr_pat_", "dckr_oat_"],
  },
  {
    id: "nuget-key",
    family: "registry",
    finds: "NuGet API keys (`oy2` + 43 lower case and digits)",
    pattern: "(?<![a-z0-9])oy2[a-z0-9]{43}(?![a-z0-9])",
    anchors: ["oy2"],
    valid: (m) => /[0-9]/.test(m[0].slice(3)) && /[a-z]/.test(m[0].slice(3)),
  },
  {
    id: "cratesio-token",
    family: "registry",
    finds: "crates.io API tokens (`cio` + 32)",
    pattern: "(?<![A-Za-z0-9_])cio[A-Za-z0-9]{32}(?![A-Za-z0-9_])",
    anchors: ["cio"],
    valid: (m) => mixedCase(m[0].slice(3)),
  },
  {
    id: "clojars-token",
    family: "registry",
    finds: "Clojars deploy tokens (`CLOJARS_` + 60)",
    pattern: "CLOJARS_[a-z0-9]{60}",
    anchors: ["clojars_"],
  },
  {
    id: "artifactory-token",
    family: "registry",
    finds: "JFrog Artifactory API keys (`AKCp` + 69)",
    pattern: "(?<![A-Za-z0-9])AKCp[A-Za-z0-9]{69}(?![A-Za-z0-9])",
    anchors: ["akcp"],
    valid: (m) => mixedCase(m[0]),
  },
] as const satisfies readonly DlpRule[];
