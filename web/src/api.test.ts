import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, request } from './api';

function response(status: number, body: unknown, type = 'application/json') {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

describe('the API client', () => {
  it('sends the session cookie, the CSRF header and the JSON body through the typed client, and returns the parsed answer', async () => {
    const fetcher = vi.fn().mockResolvedValue(response(201, { id: 7 }));
    const result = await createApi(fetcher).createWorkflow({ name: 'x' });

    expect(result.id).toBe(7);
    const [url, init] = fetcher.mock.calls[0];
    expect(new URL(url).pathname).toBe('/workflows');
    expect(init.method).toBe('POST');
    expect(init.headers.get('Authorization')).toBeNull();
    expect(init.credentials).toBe('same-origin');
    expect(init.headers.get('X-Requested-With')).toBe('KiKonect');
    expect(init.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(init.body)).toEqual({ name: 'x' });
  });

  it('fills path and query parameters from openapi.yaml\'s paths', async () => {
    const fetcher = vi.fn().mockResolvedValue(response(200, { fire_times: [] }));
    await createApi(fetcher).schedule(42, 3);
    const [url] = fetcher.mock.calls[0];
    expect(new URL(url).pathname + new URL(url).search).toBe('/workflows/42/schedule?count=3');
  });

  it('turns a problem+json answer into an ApiError naming every bad field', async () => {
    const problem = {
      type: 'https://kikonect.dev/problems/validation',
      title: 'Invalid request',
      status: 400,
      detail: '2 fields are invalid',
      errors: [
        { field: 'name', reason: 'must not be blank' },
        { field: 'action_url', reason: 'must be an absolute http or https URL' },
      ],
    };
    const fetcher = vi.fn().mockResolvedValue(response(400, problem, 'application/problem+json'));

    const error = (await request('POST', '/workflows', {}, fetcher).catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.fieldError('name')).toBe('must not be blank');
    expect(error.fieldError('action_url')).toContain('absolute');
    expect(error.fieldError('other')).toBeUndefined();
  });

  it('returns nothing for 204', async () => {
    const fetcher = vi.fn().mockResolvedValue(new Response(null, { status: 204 }));
    await expect(request('DELETE', '/workflows/1', undefined, fetcher)).resolves.toBeUndefined();
  });
});

describe('errors people understand', () => {
  it('says the server cannot be reached instead of a browser message', async () => {
    const fetcher = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'));
    const error = (await request('GET', '/workflows', undefined, fetcher).catch((e: unknown) => e)) as ApiError;
    expect(error.type).toBe('network');
    expect(error.message).toContain('cannot be reached');
  });

  it('explains the HTML error page of a proxy instead of "Unexpected token <"', async () => {
    const fetcher = vi.fn().mockResolvedValue(new Response('<html><body>Bad gateway</body></html>', { status: 502, headers: { 'Content-Type': 'text/html' } }));
    const error = (await request('GET', '/workflows', undefined, fetcher).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.message).toContain('not answering properly');
    expect(error.message).not.toContain('Unexpected token');
  });
});

describe('knowing when KiKonect cannot be reached', () => {
  it('reports an unreachable server, and reachable again after the next answer', async () => {
    const { whenReachable } = await import('./api');
    const seen: boolean[] = [];
    whenReachable((r) => seen.push(r));
    await request('GET', '/workflows', undefined, vi.fn().mockRejectedValue(new TypeError('Failed to fetch'))).catch(() => {});
    await request('GET', '/workflows', undefined, vi.fn().mockResolvedValue(response(200, { items: [] })));
    expect(seen).toEqual([false, true]);
    whenReachable(() => {});
  });
});
