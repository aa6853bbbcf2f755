// esbuild bundles CSS imports into viewer.css; TypeScript only needs to know they exist.
declare module "*.css";
