"""odibi-faulty: deliberately broken Odibi connection drivers, one module per failure mode.

Importing this package runs none of them; each failure happens only when its
own module is imported or its factory called. See the README for the list.
"""
