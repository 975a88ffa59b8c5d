import './polyfill.js';
export {};
