// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  // Login: the 學校 list follows 行政區 + 級別 in place.
  var district = document.getElementById('districtId');
  var level = document.getElementById('level');
  var school = document.getElementById('schoolId');
  var schoolsRequest = 0;
  function reloadSchools() {
    if (!district || !level || !school) return;
    // Only the latest answer counts, and the chosen school stays chosen when it is still in the list.
    var mine = ++schoolsRequest;
    var url = '/api/schools?districtId=' + encodeURIComponent(district.value) + '&level=' + encodeURIComponent(level.value);
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : { schools: [] }; })
      .then(function (data) {
        if (mine !== schoolsRequest) return;
        var chosen = school.value;
        while (school.firstChild) school.removeChild(school.firstChild);
        if (!data.schools.length) {
          var empty = document.createElement('option');
          empty.value = '';
          empty.textContent = '（此行政區沒有此級別的學校）';
          school.appendChild(empty);
        }
        data.schools.forEach(function (s) {
          var o = document.createElement('option');
          o.value = String(s.id);
          o.textContent = s.name;
          school.appendChild(o);
        });
        if (chosen && data.schools.some(function (s) { return String(s.id) === chosen; })) school.value = chosen;
      })
      .catch(function () { /* the 更新學校清單 button still works */ });
  }
  if (district && level && school) {
    district.addEventListener('change', reloadSchools);
    level.addEventListener('change', reloadSchools);
  }

  // 重新產生: a new captcha image without leaving the page.
  var refresh = document.getElementById('captcha-refresh');
  var img = document.getElementById('captcha-image');
  if (refresh && img) {
    refresh.addEventListener('click', function (e) {
      e.preventDefault();
      img.setAttribute('src', '/login/captcha?v=' + Date.now());
      var input = document.getElementById('captcha');
      if (input) { input.value = ''; input.focus(); }
    });
  }

  // Forms that ask before they act (data-confirm): a dialog with JavaScript, a confirm page without.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      if (!window.confirm(form.getAttribute('data-confirm'))) e.preventDefault();
    });
  });

  // Select-all checkbox for batch forms.
  document.querySelectorAll('input[data-check-all]').forEach(function (all) {
    all.addEventListener('change', function () {
      var name = all.getAttribute('data-check-all');
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (b) { b.checked = all.checked; });
    });
  });
  // 訊息發送服務: the character count as an SMS counts it (Unicode code points), updated while typing.
  document.querySelectorAll('textarea[data-sms-count]').forEach(function (area) {
    var max = Number(area.getAttribute('data-sms-count'));
    var hint = document.getElementById(area.id + '-count');
    if (!hint) return;
    function update() {
      var n = Array.from(area.value.replace(/\r\n?/g, '\n').trim()).length;
      hint.textContent = '目前 ' + n + ' 字，最多 ' + max + ' 字（中英文、標點、空白、換行各算 1 字）。' + (n > max ? '已超過上限。' : '');
    }
    area.addEventListener('input', update);
    update();
  });
})();

// 新增申請: the fee follows the chosen period and items (the server computes it again on 計算費用 / 送出申請).
(function () {
  'use strict';
  var out = document.getElementById('fee-live');
  if (!out) return;
  // The server's 計算費用 box already shows the total; once a choice changes it is stale, so it gives way.
  var preview = document.getElementById('fee-total');
  function update(event) {
    if (!event && preview) { out.hidden = true; return; }
    if (preview) { preview.parentNode.removeChild(preview); preview = null; }
    var period = document.querySelector('input[name="periodId"]:checked');
    var arrival = document.getElementById('arrival');
    var departure = document.getElementById('departure');
    if (!period || !arrival || !departure) { out.hidden = true; return; }
    // The server wrote the charge of each choice of items on the period (lifecycle.orderCharge): no rule here.
    var quote = period.getAttribute('data-quote-' + (arrival.checked ? '1' : '0') + (departure.checked ? '1' : '0'));
    if (!quote) { out.hidden = true; return; }
    out.textContent = '費用合計：' + quote;
    out.hidden = false;
  }
  document.querySelectorAll('input[name="periodId"], #arrival, #departure').forEach(function (el) {
    el.addEventListener('change', update);
  });
  update();
})();

// Printable pages (繳費通知單, 收據, 退費清單): a 列印 button; without JavaScript the browser's own print works.
(function () {
  'use strict';
  document.querySelectorAll('button[data-print]').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () { window.print(); });
  });
})();
