// Two languages, negotiated from Accept-Language as Django's LocaleMiddleware would pick between
// LANGUAGES = [('en', …), ('fr', …)]: the first supported language in order of preference.

export const LANGUAGES = ['en', 'fr'];

/** The best supported language for an `Accept-Language` value (English by default). */
export function negotiateLanguage(acceptLanguage) {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag, ...parameters] = part.trim().split(';');
      const q = parameters.map((parameter) => /^\s*q=([\d.]+)\s*$/.exec(parameter)?.[1]).find(Boolean);
      return { language: tag.trim().toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), index };
    })
    .filter(({ language, q }) => language && q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.find(({ language }) => LANGUAGES.includes(language))?.language ?? 'en';
}

const STRINGS = {
  en: { read: 'Read', edit: 'Edit this article', rendered: 'Rendered at', language: 'Language', tags: 'Tags' },
  fr: { read: 'Lire', edit: 'Modifier cet article', rendered: 'Rendu à', language: 'Langue', tags: 'Étiquettes' },
};

export function strings(language) {
  return STRINGS[language] ?? STRINGS.en;
}
