// Lint configuration: typescript-eslint recommended rules, zero warnings allowed (npm run lint).
import js from "@eslint/js";
import unicorn from "eslint-plugin-unicorn";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "runs/**", "models/**", "datasets/**", "tmp/**", "**/*.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly", Buffer: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    // one file-name style: kebab-case (src/policy/model-dir.ts, tests/bridge/ros-link.test.ts)
    plugins: { unicorn },
    rules: { "unicorn/filename-case": ["error", { case: "kebabCase" }] },
  },
  {
    files: ["src/cli/**", "bin/**", "bench/**", "tests/golden/**", "tests/setup.ts"],
    rules: { "no-console": "off" },
  },
);
