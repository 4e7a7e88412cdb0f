import { createContext, ReactNode, useContext } from 'react';
import { atLeast, Role, Workspace } from './api';

/** The workspace the app is working in and the user's role there; pages hide what the role may not do. */
export interface WorkspaceState {
  current: Workspace | null;
  all: Workspace[];
  switchTo: (id: number) => void;
  refresh: () => void;
}

const Context = createContext<WorkspaceState>({ current: null, all: [], switchTo: () => {}, refresh: () => {} });

export function WorkspaceProvider({ value, children }: { value: WorkspaceState; children: ReactNode }) {
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useWorkspace(): WorkspaceState {
  return useContext(Context);
}

/** Whether the user's role in the current workspace reaches `needed`. */
export function useCan(needed: Role): boolean {
  return atLeast(useWorkspace().current?.role, needed);
}
