// The web console's build: static files ferryd serves from dist/web (no CDN at run time).
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [preact()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    // Hashed file names: ferryd may let browsers cache them for good.
    assetsDir: 'assets',
    sourcemap: false,
  },
  logLevel: 'warn',
});
