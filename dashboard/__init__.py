"""The Dash web app over result stores (to come)."""
