// Home page: go to an election by its identifier.
import { initI18n, t } from './i18n.js';
import { $, showError } from './ui.js';

await initI18n([]);
$('#go-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = $('#election-id').value.trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    showError(t('home.invalid_id'));
    $('#election-id').setAttribute('aria-invalid', 'true');
    return;
  }
  location.href = `/elections/${encodeURIComponent(id)}`;
});
