// One cache for every API read (TanStack Query): pages that need the same data share one request, a poll never
// overlaps the previous one, and polling pauses while the tab is hidden. Reads are declared once, in queries.ts; a
// write refreshes exactly the reads it names (useBusy in ui.tsx), not the whole cache.
import { QueryClient, QueryKey, useQuery, UseQueryOptions } from '@tanstack/react-query';

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: 1,
      staleTime: 1_000,
      refetchOnWindowFocus: true,
      refetchIntervalInBackground: false,
    },
  },
});

/** A read from queries.ts, kept fresh by polling every `ms` milliseconds while the page is visible. */
export function useLive<T, K extends QueryKey>(options: UseQueryOptions<T, Error, T, K>, ms: number) {
  const query = useQuery({ ...options, refetchInterval: ms });
  return {
    data: query.data,
    error: query.error ?? undefined,
    reload: () => queryClient.invalidateQueries({ queryKey: options.queryKey }),
  };
}
