import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built by Maven into the jar: served by KiKonect at /app/.
export default defineConfig({
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: '../target/classes/static/app',
    emptyOutDir: true,
  },
  server: {
    proxy: Object.fromEntries(
      ['/login', '/register', '/logout', '/me', '/password', '/api-keys', '/workflows', '/runs', '/hooks', '/schedule'].map(
        (p) => [p, 'http://localhost:8080'],
      ),
    ),
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
