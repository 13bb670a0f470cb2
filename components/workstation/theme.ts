// The workstation uses the shared theme (components/theme); re-exported so the folder is complete.
export { makeTheme, themeFromEnv, type Theme } from '../theme/theme.js';
