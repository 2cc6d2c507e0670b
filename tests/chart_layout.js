// Every text of every Plotly chart on the page: inside its figure and not overlapping another text of the
// same figure (titles, legend entries, annotations, tick labels). Returns a list of problems (tests/test_a11y.py).
() => {
  const problems = [];
  const boxes = (t) => { const r = t.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height}; };
  document.querySelectorAll('.js-plotly-plot').forEach((plot, i) => {
    const fig = plot.getBoundingClientRect();
    const texts = [...plot.querySelectorAll('text')].filter(t => t.textContent.trim() && getComputedStyle(t).display !== 'none' && getComputedStyle(t).visibility !== 'hidden' && getComputedStyle(t).opacity !== '0');
    const items = texts.map(t => ({t, box: boxes(t), cls: (t.getAttribute('class') || '') + '|' + (t.closest('g[class]')?.getAttribute('class') || ''), txt: t.textContent.trim().slice(0, 40)})).filter(x => x.box.w > 0);
    for (const x of items) {
      if (x.box.l < fig.left - 1 || x.box.r > fig.right + 1 || x.box.t < fig.top - 1 || x.box.b > fig.bottom + 1)
        problems.push(`chart ${i}: "${x.txt}" outside the figure (${x.box.l.toFixed(0)}..${x.box.r.toFixed(0)} of ${fig.left.toFixed(0)}..${fig.right.toFixed(0)})`);
    }
    for (let a = 0; a < items.length; a++) for (let b = a + 1; b < items.length; b++) {
      const p = items[a].box, q = items[b].box;
      const ox = Math.min(p.r, q.r) - Math.max(p.l, q.l), oy = Math.min(p.b, q.b) - Math.max(p.t, q.t);
      if (ox > 2 && oy > 2) problems.push(`chart ${i}: "${items[a].txt}" overlaps "${items[b].txt}"`);
    }
  });
  return problems;
}
