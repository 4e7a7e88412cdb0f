// One cache for every API read (TanStack Query): pages that need the same data share one request, a poll never
// overlaps the previous one, polling pauses while the tab is hidden, and any change made through the API refreshes
// what is on screen (see `request` in api.ts).
import { QueryClient, useQuery } from '@tanstack/react-query';

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

/** Everything a page reads, kept fresh by polling every `ms` milliseconds while the page is visible. */
export function useLive<T>(key: readonly unknown[], load: () => Promise<T>, ms: number) {
  const query = useQuery({ queryKey: key, queryFn: load, refetchInterval: ms });
  return {
    data: query.data,
    error: query.error ?? undefined,
    reload: () => queryClient.invalidateQueries({ queryKey: key }),
  };
}

/** After a change (POST, PATCH, DELETE) every cached read may be out of date: mark all of them stale. */
export function changed() {
  void queryClient.invalidateQueries();
}
