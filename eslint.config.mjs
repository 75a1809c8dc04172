// ESLint (`make lint` runs `eslint widget`): the recommended rules on the browser code of widget/,
// the sources only. widget/src/widget.js is a classic script embedded on creators' sites (its
// build, widget/widget.js, is minified and not linted); widget/pages/*.js are the dashboard's
// and the insights page's ES modules.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["widget/widget.js"] },
  {
    ...js.configs.recommended,
    files: ["widget/src/**/*.js"],
    languageOptions: { ecmaVersion: 2019, sourceType: "script", globals: globals.browser },
  },
  {
    ...js.configs.recommended,
    files: ["widget/pages/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
];
