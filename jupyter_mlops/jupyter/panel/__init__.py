"""The %mlops panel widgets: state and actions, rows, HTML and the ipywidgets view."""
