"""The notebook side: magics, the kernel session, notebook tracking and the widgets panel."""
