// Builds ../assets/plotly-quarch.min.js: `npm ci && node build.mjs` in this folder (Node 20+).
// The same esbuild settings as plotly.js's own bundles (its esbuild-config.js); the version is
// pinned to the plotly.js that the installed Python plotly ships (the app checks, see app.py).
import { readFileSync } from 'node:fs';
import * as esbuild from 'esbuild';
import { environmentPlugin } from 'esbuild-plugin-environment';
import { glsl } from 'esbuild-plugin-glsl';
import InlineCSSPlugin from 'esbuild-plugin-inline-css';

const version = JSON.parse(readFileSync('node_modules/plotly.js/package.json')).version;
await esbuild.build({
    entryPoints: ['entry.js'],
    outfile: '../assets/plotly-quarch.min.js',
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'none',
    banner: {js: `/* plotly.js v${version} (bar, scatter, scattergl, scatter3d, parcoords) | MIT License | Plotly, Inc. */`},
    plugins: [InlineCSSPlugin(), glsl({minify: true}), environmentPlugin({NODE_DEBUG: false})],
    alias: {regl: '@plotly/regl', stream: 'stream-browserify'},
    define: {global: 'window', 'define.amd': 'false'},
    target: 'es2016',
    logLevel: 'info'
});
