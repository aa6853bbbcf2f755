// Vite's module types for the tests: `?raw` imports (file text) and `import.meta.glob`, which
// the README test uses to read the docs and sources it checks.
/// <reference types="vite/client" />
