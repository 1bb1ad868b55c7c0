// Builds the browser pages (index.html: live grid and admin; camera.html: publish a camera;
// playback.html: recordings, export, share; share.html: a share link; kiosk.html: a wall display) into
// <repo>/dist/client, which the server serves at `/`. Run by setup/client.sh.
// `npx vite --config client/vite.config.ts` serves them with hot reload, proxying the API and
// socket.io to a running server (MIMAMORI_DEV_BACKEND, default https://127.0.0.1:8443).
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const backend = process.env.MIMAMORI_DEV_BACKEND ?? 'https://127.0.0.1:8443';

/** A string literal: '…' or "…" (escapes allowed), or `…` without interpolation. */
const STRING_LITERAL = String.raw`'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\x60(?:[^\x60\\$]|\\.|\$(?!\{))*\x60`;
const DESCRIBE_CALL = new RegExp(String.raw`\.describe\(\s*(?:${STRING_LITERAL})\s*\)`, 'g');

/**
 * The answer and message schemas the pages share with the server carry `.describe('…')` texts for
 * the server's OpenAPI document. In the browser each one only cloned its schema while the page
 * started (about 300 clones, a large part of building the schemas before the first tile could
 * join), so the calls whose text is a plain literal are blanked out: the same length, so source
 * maps still point right. Parsing is unchanged: a description never changes what a schema accepts.
 */
function withoutDescriptions(): Plugin {
  return {
    name: 'mimamori-without-descriptions',
    transform(code, id) {
      if (!/[\\/]signaling[\\/]/.test(id) || !code.includes('.describe(')) return null;
      return { code: code.replace(DESCRIBE_CALL, (call) => call.replace(/[^\n]/g, ' ')), map: null };
    },
  };
}

export default defineConfig({
  plugins: [withoutDescriptions()],
  root: here('.'),
  base: '/',
  build: {
    outDir: here('../dist/client'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      input: {
        index: here('index.html'),
        camera: here('camera.html'),
        playback: here('playback.html'),
        share: here('share.html'),
        kiosk: here('kiosk.html'),
      },
      // mediasoup-client and socket.io-client in one long-cached chunk, hls.js (only the pages that
      // play recordings) in its own, our shared modules in another.
      output: {
        codeSplitting: {
          groups: [
            { name: 'hls', test: /node_modules[\\/]hls\.js/, priority: 2 },
            { name: 'vendor', test: /node_modules/, priority: 1 },
            { name: 'shared', minShareCount: 2 },
          ],
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, secure: false, changeOrigin: true },
      '/socket.io': { target: backend, secure: false, changeOrigin: true, ws: true },
    },
  },
});
