"""HTTP only: parse the request, call the domain, render the response."""
