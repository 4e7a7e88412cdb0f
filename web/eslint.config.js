// ESLint for the web app (flat config): typescript-eslint's recommended rules, the rules of hooks, and TanStack
// Query's rules (every value a query function reads is in its key, and so on). `npm run lint` runs it; the Maven
// build runs it before Vitest.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import pluginQuery from "@tanstack/eslint-plugin-query";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", "src/api-types.ts", "e2e/screenshots/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginQuery.configs["flat/recommended"],
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
    },
  },
  // The browser flow runs in Node and hands functions to the page (page.evaluate): both sets of globals.
  { files: ["e2e/**/*.mjs", "*.js", "*.ts"], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  { files: ["public/sw.js"], languageOptions: { globals: globals.serviceworker } },
);
