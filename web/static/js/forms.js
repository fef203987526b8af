// After a refused submit the page opens on its error summary: focus moves there, so a
// screen reader reads the problems first and the keyboard starts at the links to the
// fields. Without this file the summary is still first in the content.
(function () {
  'use strict';
  var summary = document.querySelector('.error-summary');
  if (summary) { summary.focus(); }
})();
