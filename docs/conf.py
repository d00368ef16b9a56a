"""Sphinx configuration: user guide, API reference (autosummary + numpydoc)
and the sphinx-gallery examples in examples/.

Build (from the repository root; see CONTRIBUTING.md):

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import sys
from pathlib import Path

# Document the code of this checkout, installed or not.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sklearn_cae  # noqa: E402
from sklearn_cae._cae import DOCS_URL  # noqa: E402

project = "sklearn-cae"
copyright = "sklearn-cae developers"
release = version = sklearn_cae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax bundled with the site: formulas render offline
    "myst_parser",  # the changelog page includes CHANGELOG.md
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples"]  # examples: the gallery sources
root_doc = "index"
default_role = "literal"
nitpicky = False

autosummary_generate = True
# changelog.rst includes CHANGELOG.md from its first "##" section, under the
# page's own title: the headings are nested as intended.
suppress_warnings = ["myst.header"]
# Method names alone in a page's contents ("fit()", not "ContractiveAutoencoder.fit()",
# which the right-hand column cut off).
toc_object_entries_show_parents = "hide"
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-cae {release}"
html_baseurl = DOCS_URL
html_theme_options = {"navigation_with_keys": False, "secondary_sidebar_items": ["page-toc"]}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_static_path = ["_static"]
html_css_files = ["custom.css"]  # wide display equations scroll instead of being cut

# The gallery: every example runs at each build (the plots in the pages are
# what the code draws now). Keep them small: the whole build has a budget
# of a few minutes on 2 cores.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("sklearn_cae",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_cae": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "only_warn_on_example_error": False,
    "abort_on_example_error": True,
}


def check_doc_link(app, exception):
    """The estimator's HTML repr links to its page: the build must make it."""
    if exception is not None or app.builder.name != "html":
        return
    link = sklearn_cae.ContractiveAutoencoder()._get_doc_link()
    page = Path(app.outdir) / link.removeprefix(DOCS_URL)
    if not page.is_file():
        raise RuntimeError(f"the HTML repr links to {link}, but the build has no {page}")


def setup(app):
    app.connect("build-finished", check_doc_link)
