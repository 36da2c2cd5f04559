// esbuild bundles the stylesheet the app imports into its own .css file.
declare module '*.css';
