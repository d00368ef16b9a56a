"""The HTML repr's "?" links to the estimator's API page."""

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from sklearn_cae import ContractiveAutoencoder
from sklearn_cae._cae import DOCS_URL


def test_html_repr_links_to_the_api_page():
    link = DOCS_URL + "generated/sklearn_cae.ContractiveAutoencoder.html"
    assert ContractiveAutoencoder()._get_doc_link() == link
    assert f'href="{link}"' in estimator_html_repr(
        make_pipeline(StandardScaler(), ContractiveAutoencoder())
    )
