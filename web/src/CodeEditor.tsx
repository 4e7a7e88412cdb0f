import { useEffect, useRef } from 'react';
import { basicSetup, EditorView } from 'codemirror';
import { json } from '@codemirror/lang-json';
import { javascript } from '@codemirror/lang-javascript';

/**
 * A CodeMirror 6 editor for JSON (payloads) or JSONata (bodies, conditions: highlighted as JavaScript, whose
 * expression syntax JSONata's object constructors, strings, numbers and operators share). Controlled: `value` in,
 * `onChange` out; a value changed from outside replaces the text.
 */
export function CodeEditor({ value, onChange, language, label, name }: {
  value: string;
  onChange: (value: string) => void;
  language: 'json' | 'jsonata';
  label: string;
  name: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const editor = new EditorView({
      doc: value,
      parent: host.current!,
      extensions: [
        basicSetup,
        language === 'json' ? json() : javascript(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) changed.current(u.state.doc.toString());
        }),
      ],
    });
    view.current = editor;
    return () => editor.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div className="code-editor" data-name={name} ref={host} />;
}
