import { api } from '../api.ts';
import { CollectionPage, show } from '../components/collection-page.tsx';

/** SAML identity providers: register by metadata upload or by entity id + certificate upload; domains, JIT, SSO URL. */
export function IdpsPage(props: { orgAdmin: boolean }) {
  return (
    <CollectionPage
      config={{
        collection: 'idps',
        title: 'Identity providers',
        singular: 'IdP',
        intro: 'Upload the IdP’s metadata, or give its entity id and signing certificate (PEM).',
        columns: [
          { key: 'entity_id', label: 'Entity id' },
          { key: 'org', label: 'Organization' },
          { key: 'domains', label: 'Domains' },
          { key: 'jit', label: 'JIT' },
          { key: 'sso_url', label: 'SSO URL' },
        ],
        create: [
          ...(props.orgAdmin ? [] : [{ name: 'org', label: 'Organization id', hint: 'Empty: the default organization.' }]),
          { name: 'metadata', label: 'IdP metadata (XML file)', type: 'file', accept: '.xml,application/samlmetadata+xml,text/xml' },
          { name: 'entity_id', label: 'Entity id (without metadata)', type: 'url' },
          { name: 'certificate', label: 'Signing certificate (PEM file, without metadata)', type: 'file', accept: '.pem,.crt,.cer' },
          { name: 'sso_url', label: 'Single sign-on URL', type: 'url' },
          { name: 'domains', label: 'Email domains', type: 'words', hint: 'Users of these domains sign in through this IdP.' },
          { name: 'jit', label: 'Create users on first sign-in (JIT)', type: 'checkbox' },
        ],
        edit: [
          { name: 'sso_url', label: 'Single sign-on URL', type: 'url' },
          { name: 'domains', label: 'Email domains', type: 'words' },
          { name: 'jit', label: 'Create users on first sign-in (JIT)', type: 'checkbox' },
        ],
        // The API takes a list of PEMs; the form uploads one.
        createBody: (values) => (values.certificate ? { certificate: undefined, certificates: [values.certificate] } : {}),
        details: (idp) =>
          Array.isArray(idp.certificates) && idp.certificates.length > 0 ? (
            <div class="details">
              <h3>Certificates</h3>
              <ul>
                {(idp.certificates as Record<string, unknown>[]).map((c) => (
                  <li key={String(c.id)}>
                    <code>{String(c.fingerprint ?? c.id)}</code> until {show(c.not_after)}
                  </li>
                ))}
              </ul>
            </div>
          ) : null,
        actions: [
          {
            label: 'Replace certificate',
            form: [
              { name: 'certificate', label: 'New signing certificate (PEM file)', type: 'file', accept: '.pem,.crt,.cer', required: true },
            ],
            run: (idp, values) => api('PATCH', `idps/${idp.id}`, { certificates: [values.certificate] }),
          },
        ],
        deleteMessage: (idp) => `Delete the IdP ${idp.entity_id}? Its users can no longer sign in through it.`,
      }}
    />
  );
}
