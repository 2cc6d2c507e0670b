"""Init Lab's page toolkit: URL-bound controls, share links, the shared run cache, colours and navigation.

Pages import from here; core and figures never do. Colours and the chart template are figures.style's.

API (stable; page helpers code against it)
------------------------------------------
ui.share
    begin(page: str) -> None                 first line of a page, before any widget; page = url_path
    report(config=None, container=None) -> ExperimentConfig | None
        after the controls: one st.warning naming URL parameters that were unknown, malformed, out of
        range or not used by this page; with a config also runs core.config.fit_to_budget, shows its
        messages (st.info) and returns the fitted config
    link(container=None, *, title="Share this experiment") -> str
        the share box: the full link with every control of the page explicit and a "Copy link" button
    copy_block(url) -> str: that link and button as HTML (st.html with its small copy script)
    link_url(page=None) -> str, params() -> list[(key, value)], url_notes() -> list[str], md_escape(text)
ui.controls   one function per setting, each bound to the URL with its key, drawn as its row of the settings
              table core/fields.py says (widget, range or choices, label, help)
    dataset, n_samples, noise, n_classes, data_seed, depth, width, activation, schemes, scale, gain,
    weight_std, weight_const, weight_bound, sparsity, he_mode, leaky_slope, bias_init, bias_value, optimizer,
    lr, batch_size, steps, seed, dtype, block, norm, alpha, branch_layers, input_dim, output_init
    common signature: f(container=None, *, default=None, [min_value=, max_value=, step=] (slider, number)
                        or [options=] (grid, select, radio), label=None, help=None, disabled=False) -> value
    schemes(container=None, *, multi=True, default=None, options=None, max_selections=None, ...)
        -> tuple[str, ...] (always a tuple; empty if nothing is picked)
    scheme_params(schemes, container=None, **defaults)   one control per parameter the schemes read
    data_details(dataset, container=None)   classes / noise / size / seed, as the data set has them
    config(**fixed) -> ExperimentConfig     the drawn controls + fixed values for fields the page hides
    values() -> dict, registered() -> dict[str, Control], record(...), refresh_after_fragment(key, value),
    URL_KEYS, LABELS (from core/fields.py), fmt_number
    Categorical options are shown by their stable ids (he_normal, tanh): a bound widget writes the
    shown text into the URL, so ids keep links short and valid when a label is reworded.
ui.runs
    experiment(config, *, stop=True) -> dict[str, RunRecord]   cached across sessions, keyed by the
        config and CODE_VERSION (hash of core/*.py); invalid config -> plain st.error and st.stop()
    progress_bar(container=None) -> context manager yielding progress(fraction, message); pass it to
        your own @st.cache_data function as an underscore argument (`_progress`), never draw on an
        outside element directly inside a cached function (that breaks the cache replay)
    training_slot(progress=None): context manager, at most TRAINING_SLOTS (the CPUs) trainings at once;
        every cached training function computes inside one (the others wait, and their bar says so)
    CODE_VERSION, MAX_ENTRIES, MAX_SIZE, config_key(config)
    modern(configs) -> list[core.modern.ModernRecord] | None   one-scheme configs with block / norm / alpha,
        trained together by core.modern (same data, batches, seed), cached; invalid -> plain st.error, None
ui.charts     show(fig, *, key=None, alt=None, **plotly_chart_kwargs): template, full width, no mode bar
    tabs(views, key) -> list of tabs: st.tabs of lazy labels that rerun on a switch, so a page computes a
        tab only `if tab.open:`; a language switch keeps the same tab open
    link_tabs(views, key, *, url_key) -> str   views: id -> label; before share.link(): the open tab, by its
        id, in the page's links and address bar (a link's `url_key` opens its tab)
ui.scripts    run(js, where=None, data=None): a script run in the browser that takes no room on the page;
        text it needs arrives as data-* attributes of its parent (document.currentScript.parentElement.dataset)
figures.style SCHEME_COLORS, scheme_color(id), scheme_dash(id), layer_colors(n), apply(fig, height=None)
              (shared Plotly template "initlab"), readable_figure(fig); scheme labels: core.initializers
              scheme_label(id) / run_label(id, config)
ui.nav        PAGES / LESSONS (PageSpec: file, url_path, title, icon, help, you_will_see), run_app() (app.py),
              through_app() (first line of every lesson page)
ui.i18n       begin() (app.py: this session's language from lang=, the session, the browser, else "en"),
              switch() (the language switch, app.py), lang(), share_params(), url_note(values, shown),
              plotly_separators(); texts are translated with the streamlit-free package i18n:
              _, ngettext, pgettext, N_ (lazy), i18n.numbers (num, pct, times, decimal, integer)
ui.presets    PRESETS (Preset: page, label, params), for_page(url_path)

Page skeleton
-------------
    import streamlit as st
    from figures import depth as fd
    from i18n import _
    from ui import charts, controls, nav, runs, share

    nav.through_app()
    share.begin("depth")
    st.title(_("Depth"))
    with st.sidebar:
        schemes = controls.schemes(default=("xavier_normal",), max_selections=3)
        depth = controls.depth(default=10, max_value=50)
        controls.activation(default="tanh")
        controls.scale()
        controls.scheme_params(schemes)         # sigma, c, a, sparsity: what the chosen schemes read
    config = share.report(controls.config(steps=0, dataset="spiral"))
    records = runs.experiment(config)          # {scheme: RunRecord}
    record = records[schemes[0]]
    charts.show(fd.histogram_figure(record, "act", 0), key="depth_hist", alt=sentence)  # sentence: from the run
    share.link(st.sidebar)
"""
