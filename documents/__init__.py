"""What people read: Vietnamese formatting, email and report rendering."""
