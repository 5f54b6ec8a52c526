// Lint for the whole repository: typescript-eslint's strict rules on every TypeScript file, the
// recommended ones on the plain Node scripts. `npm test` runs it; a rule is only ever disabled on
// one line, with the reason beside it.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "proxy/node_modules/", "proxy/dist/", ".pulumi-state/", "bench/out/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  {
    files: ["**/*.ts"],
    rules: {
      // tsc checks names (typescript-eslint's advice); this rule knows no TypeScript globals
      "no-undef": "off",
      // unused arguments named with a leading underscore are part of a signature
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // the e2e fixture servers: CommonJS scripts copied into their images as they are
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
