import { useState } from 'preact/hooks';

/** A client secret, shown this once (the API never returns it again), with a copy button. */
export function SecretOnce(props: { label: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied(true);
    } catch {
      // No clipboard permission (plain http, an old browser): select it for a manual copy.
      (document.getElementById('secret-value') as HTMLInputElement | null)?.select();
    }
  };
  return (
    <section class="secret" role="status" aria-labelledby="secret-title">
      <h3 id="secret-title">{props.label}</h3>
      <p>This secret is shown only once. Copy it now and store it safely.</p>
      <div class="secret-row">
        <input
          id="secret-value"
          readOnly
          value={props.secret}
          aria-label="Client secret"
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
        />
        <button type="button" class="primary" onClick={copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <button type="button" onClick={props.onClose}>
        I have stored it
      </button>
    </section>
  );
}
