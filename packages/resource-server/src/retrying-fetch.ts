/**
 * fetch with one immediate retry when the connection failed before any answer (a keep-alive
 * socket the issuer had just closed gives ECONNRESET): both requests the verifier makes are safe
 * to repeat (a JWKS GET, an introspection POST that changes nothing). A timeout or an abort is
 * not retried, and the retry shares the caller's signal, so the timeout bounds both attempts.
 */
export function retryingFetch(fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetchImpl(input, init);
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError' || name === 'AbortError' || init?.signal?.aborted) throw error;
      return fetchImpl(input, init);
    }
  };
}
