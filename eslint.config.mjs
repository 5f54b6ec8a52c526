// Lint for the whole repository: typescript-eslint's strict rules on every TypeScript file.
// `npm test` runs it; a rule is only ever disabled on one line, with the reason beside it.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "proxy/node_modules/", "proxy/dist/", ".pulumi-state/", "bench/out/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["**/*.ts"],
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // unused arguments named with a leading underscore are part of a signature
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
